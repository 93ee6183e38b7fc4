import { randomUUID } from 'node:crypto';
import type { Emulator } from '@tim-broadcast/emulator';
import { testApp } from '../../../testing/chat-app';

export { delay, rejection, until } from '../../../testing/promises';
export { connectionsNamed, REDIS_URL } from '../../../testing/redis-server';

export const APP = { sdkAppId: 1400000042, secretKey: 'rate-limit-test-secret-0123456789abcdef', admin: 'administrator' };
export const { emulator, clientFor } = testApp(APP);

/** A key no other test run uses. */
export function uniqueKey(name: string): string {
  return `test:${name}:${randomUUID()}`;
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

/** Gaps between consecutive accepted calls, by the emulator's clock. */
export function gaps(emu: Emulator): number[] {
  const at = emu.deliveries.map((d) => d.at);
  return at.slice(1).map((t, i) => t - at[i]!);
}

/** A clock that moves only when told to, for the limiter and MemoryStore. */
export interface ManualClock {
  now(): number;
  setTimer(fn: () => void, ms: number): () => void;
  /** Timers not yet fired. */
  readonly pending: number;
  /** Moves time forward by `ms`, firing due timers in order and letting promise chains run after each. */
  advance(ms: number): Promise<void>;
}

/** Lets pending promise callbacks (and what they schedule as microtasks) run. */
export async function settleMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

export function manualClock(): ManualClock {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void; id: number }>();
  return {
    now: () => now,
    setTimer(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn, id });
      return () => void timers.delete(id);
    },
    get pending() {
      return timers.size;
    },
    async advance(ms) {
      const until = now + ms;
      await settleMicrotasks();
      for (;;) {
        let next: { at: number; fn: () => void; id: number } | undefined;
        for (const t of timers.values()) if (t.at <= until && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
        if (!next) break;
        timers.delete(next.id);
        now = Math.max(now, next.at);
        next.fn();
        await settleMicrotasks();
      }
      now = until;
      await settleMicrotasks();
    },
  };
}

/** A logger that keeps what it is told. */
export function recordingLogger() {
  const lines: { level: string; message: string; meta?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => void lines.push({ level, message, meta });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
