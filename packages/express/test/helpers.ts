import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { format } from 'node:util';
import { fetchTransport, type Logger, type Transport } from '@tim-broadcast/core';
import { startEmulator, type Emulator } from '@tim-broadcast/emulator';
import express5 from 'express';
import express4 from 'express4';
import { vi } from 'vitest';

export const SDK_APP_ID = 1400000001;
export const SECRET_KEY = 'express-suite-secret-0f9e8d7c6b5a4938';
export const ADMIN = 'administrator';
export const TOKEN = 'test-admin-token-3c1f5e7a9b';
/** The suite's Chat app; tests of several apps add their own. */
export const APP = { sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY };

export type ExpressFactory = typeof express5;
/** The suites run on each Express major the package supports. */
export const EXPRESS_VERSIONS: [string, ExpressFactory][] = [
  ['express 5', express5],
  ['express 4', express4 as unknown as ExpressFactory],
];

/** An emulator of `app` on 127.0.0.1:0. */
export function emulator(ratePerSecond: number, app = APP): Promise<Emulator> {
  return startEmulator({ ...app, admin: ADMIN, ratePerSecond });
}

/** Everything a caller or an operator could see during a suite, and the UserSigs the clients produced. */
export interface Seen {
  bodies: string[];
  logs: string[];
  userSigs: Set<string>;
}

export function createSeen(): Seen {
  return { bodies: [], logs: [], userSigs: new Set() };
}

/** A logger that records each line as it would be printed. */
export function recordingLogger(seen: Seen): Logger {
  const line =
    (level: string) =>
    (message: string, meta?: Record<string, unknown>) =>
      seen.logs.push(`${level} ${format(message)}${meta === undefined ? '' : ' ' + JSON.stringify(meta)}`);
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/** What a test file records for its leak check, and middleware options for an app on `emu` that record into it. */
export function recordingSuite() {
  const seen = createSeen();
  const logger = recordingLogger(seen);
  const appOptions = (emu: Emulator, app = APP) => ({ ...app, identifier: ADMIN, baseUrl: emu.url, transport: observedTransport(seen), logger });
  return { seen, logger, appOptions };
}

/** Records console output of the suite (and keeps it off the test output). */
export function recordConsole(seen: Seen): void {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      seen.logs.push(`console.${method} ${format(...args)}`);
    });
  }
}

/**
 * The real fetch transport, noting each UserSig it sends. With `hold`, calls wait until `release()`
 * (a way to keep broadcasts in flight, so the queue behind them fills up).
 */
export function observedTransport(seen: Seen, options: { hold?: boolean } = {}): Transport & { release(): void } {
  const inner = fetchTransport();
  let release!: () => void;
  const gate = options.hold ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
  if (!options.hold) release = () => {};
  return {
    async send(request) {
      const sig = new URL(request.url).searchParams.get('usersig');
      if (sig) seen.userSigs.add(sig);
      await gate;
      return inner.send(request);
    },
    close: () => inner.close(),
    release: () => release(),
  };
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

export async function serve(handler: RequestListener): Promise<Served> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** A real HTTP request; the answer's body is recorded in `seen`. */
export async function call(seen: Seen, url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const { body } = init;
  const res = await fetch(url, {
    method: init.method ?? 'POST',
    headers: { ...(body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array) ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await res.text();
  seen.bodies.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

/** Asserts that nothing recorded contains the secret key or any UserSig. */
export function findLeaks(seen: Seen, secretKey = SECRET_KEY): string[] {
  const needles = [secretKey, ...seen.userSigs];
  const leaks: string[] = [];
  for (const text of [...seen.bodies, ...seen.logs]) {
    for (const needle of needles) if (text.includes(needle)) leaks.push(`${text.slice(0, 80)}… contains ${needle === secretKey ? 'the secret key' : 'a UserSig'}`);
  }
  return leaks;
}
