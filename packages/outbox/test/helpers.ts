import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { Emulator } from '@tim-broadcast/emulator';
import type { OutboxRedis } from '@tim-broadcast/outbox';
import { testApp } from '../../../testing/chat-app';
import { REDIS_URL } from '../../../testing/redis-server';

export { deliveredTexts } from '../../../testing/deliveries';
export { delay, rejection, until } from '../../../testing/promises';
export { REDIS_URL };

export const APP = { sdkAppId: 1400000077, secretKey: 'outbox-test-secret-0123456789abcdef', admin: 'administrator' };
export const { emulator, clientFor } = testApp(APP);

/** An outbox (or limiter key) name no other test run uses. */
export function uniqueName(name: string): string {
  return `test-${name}-${randomUUID()}`;
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
