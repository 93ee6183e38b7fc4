import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { createBroadcastClient, type BroadcastClientOptions, type Limiter } from '@tim-broadcast/core';
import { startEmulator, type Emulator, type EmulatorOptions } from '@tim-broadcast/emulator';
import type { OutboxRedis } from '@tim-broadcast/outbox';

export const APP = { sdkAppId: 1400000077, secretKey: 'outbox-test-secret-0123456789abcdef', admin: 'administrator' };

/** The redis-server the CI script starts (REDIS_URL), or the one on the default port. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** An outbox (or limiter key) name no other test run uses. */
export function uniqueName(name: string): string {
  return `test-${name}-${randomUUID()}`;
}

export function emulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  return startEmulator({ ...APP, ratePerSecond: 20, ...options });
}

export function clientFor(url: string, limiter?: Limiter, extra: Partial<BroadcastClientOptions> = {}) {
  return createBroadcastClient({
    sdkAppId: APP.sdkAppId,
    secretKey: APP.secretKey,
    identifier: APP.admin,
    baseUrl: url,
    limiter,
    ...extra,
  } as BroadcastClientOptions);
}

export interface Connection {
  client: OutboxRedis;
  close(): Promise<unknown>;
}

/** A connected client of each library, with quick reconnects and quiet error events. */
export const connect: Record<'ioredis' | 'node-redis', (url?: string) => Promise<Connection>> = {
  async ioredis(url = REDIS_URL) {
    const client = new Redis(url, { retryStrategy: () => 100 });
    client.on('error', () => {});
    await new Promise((resolve) => client.once('ready', resolve));
    return { client, close: async () => client.disconnect() };
  },
  async 'node-redis'(url = REDIS_URL) {
    const client = createClient({ url, socket: { reconnectStrategy: () => 100 } });
    client.on('error', () => {});
    await client.connect();
    return { client: client as unknown as OutboxRedis, close: async () => client.destroy() };
  },
};

/** Every text element delivered, in order (a merged call delivers several). */
export function deliveredTexts(emu: Emulator): string[] {
  return emu.deliveries.flatMap((d) => d.body.MsgBody.filter((el) => el.MsgType === 'TIMTextElem').map((el) => (el.MsgContent as { Text: string }).Text));
}

/** Texts delivered more than once, and how often. */
export function repeats(texts: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of texts) counts[t] = (counts[t] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 1));
}

/**
 * A real HTTP server in front of the emulator that plays Tencent's content filter: a call whose body contains
 * `banned` is answered 80001 (refused for its content, nothing delivered); every other call is passed through.
 */
export async function contentFilter(emu: Emulator, banned: string): Promise<{ url: string; refused: number; close(): Promise<void> }> {
  const target = new URL(emu.url);
  let refused = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.toString('utf8').includes(banned)) {
        refused++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: 80001, ErrorInfo: 'the text failed content filtering' }));
        return;
      }
      const forward = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get refused() {
      return refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject');
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `check()` holds, looking every 25 ms; fails after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}
