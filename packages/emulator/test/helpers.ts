import { request } from 'node:http';
import { BROADCAST_PATH, signUserSig } from '@tim-broadcast/core';
import { afterEach } from 'vitest';
import { manualClock, startEmulator, type Emulator, type EmulatorOptions } from '../src/index';

export const APP = { sdkAppId: 1400000000, secretKey: 'emulator-test-secret-0123456789', admin: 'administrator' } as const;

/** A fixed start time for manual clocks (2025-11-25T00:00:00Z). */
export const T0 = 1_764_028_800_000;

const running = new Set<Emulator>();
afterEach(async () => {
  await Promise.all([...running].map((emu) => emu.close()));
  running.clear();
});

/** Starts an emulator for the current test (closed after it) on a manual clock unless one is given. */
export async function start(options: Partial<EmulatorOptions> = {}): Promise<Emulator & { clock: ReturnType<typeof manualClock> }> {
  const clock = manualClock(T0);
  const emu = await startEmulator({ ...APP, clock, ...options });
  running.add(emu);
  return Object.assign(emu, { clock });
}

export function userSig(overrides: { sdkAppId?: number; secretKey?: string; identifier?: string; expireSeconds?: number } = {}, atMs = T0): string {
  // tls-sig-api-v2 stamps the ticket with Date.now(); pin it so tickets line up with the manual clock.
  const realNow = Date.now;
  Date.now = () => atMs;
  try {
    return signUserSig({ sdkAppId: APP.sdkAppId, secretKey: APP.secretKey, identifier: APP.admin, ...overrides });
  } finally {
    Date.now = realNow;
  }
}

export function query(overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    sdkappid: String(APP.sdkAppId),
    identifier: APP.admin,
    usersig: userSig(),
    random: '99999999',
    contenttype: 'json',
    ...overrides,
  };
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, value);
  return search.toString();
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface SendOptions {
  method?: string;
  path?: string;
  query?: string;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** One HTTP request on a fresh connection; rejects with the socket error (ECONNRESET...) when there is no answer. */
export function send(emu: Emulator, options: SendOptions = {}): Promise<Reply> {
  const path = options.path ?? BROADCAST_PATH;
  const q = options.query ?? (path === BROADCAST_PATH ? query() : '');
  const payload = options.body === undefined ? '' : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(`${emu.url}${path}${q ? `?${q}` : ''}`, { method: options.method ?? 'POST', agent: false, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export function sample(overrides: Record<string, unknown> = {}) {
  return {
    From_Account: 'test',
    Random: 8912345,
    MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: { Data: '{ "type":1, "content":"hello world"}' } }],
    CloudCustomData: 'your cloud custom data',
    ...overrides,
  };
}

export function textBody(text: string, random: number) {
  return { Random: random, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }] };
}
