import { performance } from 'node:perf_hooks';

/**
 * The time the limiter and `MemoryStore` read and sleep on. The default is the process's monotonic clock and
 * `setTimeout`; inject another to test without waiting (both must then share it).
 */
export interface Clock {
  /** Milliseconds on a clock that never goes back. */
  now(): number;
  /**
   * Calls `fn` once, `ms` from now; the returned function cancels it. `weak` timers (housekeeping) do not keep the
   * process alive.
   */
  setTimer(fn: () => void, ms: number, options?: { weak?: boolean }): () => void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, ms, options) {
    const timer = setTimeout(fn, Math.max(0, ms));
    if (options?.weak) timer.unref();
    return () => clearTimeout(timer);
  },
};

/** An issue message when `clock` is not a Clock, else undefined. */
export function clockProblem(clock: unknown): string | undefined {
  const c = clock as Partial<Clock> | null;
  if (typeof c === 'object' && c !== null && typeof c.now === 'function' && typeof c.setTimer === 'function') return undefined;
  return 'expected a Clock ({ now(), setTimer(fn, ms) })';
}
