import { randomUUID } from 'node:crypto';
import { createBroadcastClient, type BroadcastClientOptions, type Limiter } from '@tim-broadcast/core';
import { startEmulator, type Emulator, type EmulatorOptions } from '@tim-broadcast/emulator';

export const APP = { sdkAppId: 1400000042, secretKey: 'rate-limit-test-secret-0123456789abcdef', admin: 'administrator' };

/** The redis-server the CI script starts (REDIS_URL), or the one on the default port. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key no other test run uses. */
export function uniqueKey(name: string): string {
  return `test:${name}:${randomUUID()}`;
}

export function emulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  return startEmulator({ ...APP, ratePerSecond: 20, ...options });
}

export function clientFor(emu: Emulator, limiter?: Limiter, extra: Partial<BroadcastClientOptions> = {}) {
  return createBroadcastClient({
    sdkAppId: APP.sdkAppId,
    secretKey: APP.secretKey,
    identifier: APP.admin,
    baseUrl: emu.url,
    limiter,
    ...extra,
  } as BroadcastClientOptions);
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

/** Tracks whether a promise settled, without awaiting it. */
export function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Gaps between consecutive accepted calls, by the emulator's clock. */
export function gaps(emu: Emulator): number[] {
  const at = emu.deliveries.map((d) => d.at);
  return at.slice(1).map((t, i) => t - at[i]!);
}
