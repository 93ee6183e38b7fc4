import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { AbortError, sleep, ValidationError, type Limiter, type Logger, type ValidationIssue } from '@tim-broadcast/core';
import { LimiterClosedError, StoreError } from './errors';
import { MemoryStore } from './stores/memory';
import type { RateLimitStore } from './stores/store';

/**
 * Added to every rolling second of the schedule of *untracked* calls (plain `acquire()`): they are spaced
 * (1000 + margin) / ratePerSecond ms apart. The server counts calls by when they arrive, and the time from
 * admission to arrival varies from call to call; for untracked calls this margin is all that absorbs it.
 * Tracked calls (`withSlot`, which the queue uses) do not need it: see the README, "How the limit is kept".
 */
export const DEFAULT_SAFETY_MARGIN_MS = 50;

/** The server's window: calls per rolling second. */
const WINDOW_MS = 1_000;
/** How long a tracked call holds its place when its completion is never reported (its process died). */
const HOLD_MS = 5_000;
/**
 * Longest sleep between two tries. A wait the store announces can be shortened by a completion reported
 * meanwhile (a tracked call's place is held until then), so a waiter looks again at least this often.
 */
const POLL_MS = 100;
const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 2_000;

export interface RateLimiterOptions {
  /** Where the shared schedule lives (default a new `MemoryStore`: this process only). */
  store?: RateLimitStore;
  /** Calls per second for the whole app (default 1; 5 on higher editions). Any positive number. */
  ratePerSecond?: number;
  /** Extra ms per rolling second for untracked calls (default `DEFAULT_SAFETY_MARGIN_MS`). */
  safetyMarginMs?: number;
  /** The schedule's name in the store (default `'default'`): use one key per SDKAppID, shared by all processes. */
  key?: string;
  /**
   * When the store fails: `'wait-and-retry'` (default) keeps callers waiting and retries the store with capped
   * exponential backoff; `'fail'` rejects the callers waiting at that moment with a `StoreError`.
   * Either way, nothing is admitted without the store.
   */
  onStoreError?: 'fail' | 'wait-and-retry';
  /** Told when the store starts failing and when it recovers. */
  logger?: Logger;
}

export interface RateLimiter extends Limiter {
  /** Resolves when this caller may send; callers are served first come, first served within the process. */
  acquire(options?: { signal?: AbortSignal }): Promise<void>;
  /** Pushes the shared schedule back: next admission ≥ max(schedule, now) + ms. Used on 10023 and friends. */
  penalize(ms: number): Promise<void>;
  /**
   * Waits for a slot, then runs `fn`; the first `acquire()` made inside `fn` (by a broadcast client using this
   * limiter) takes that slot at once instead of waiting for another. The call is *tracked*: it holds a place
   * in the rolling-second log until 1 s after `fn` settles (or after the next `acquire()` inside `fn`, a retry),
   * which keeps the server's count exact whatever the latency. Lets the caller decide what to send at the
   * moment it may send: the queue packs its batch there.
   */
  withSlot<T>(fn: () => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /** Callers waiting in this process. */
  readonly waiting: number;
  /** The store's last error, cleared when it answers again. */
  readonly lastStoreError: Error | undefined;
  readonly store: RateLimitStore;
  readonly ratePerSecond: number;
  /** Spacing of untracked calls: (1000 + safetyMarginMs) / ratePerSecond. Tracked calls: 1000 / ratePerSecond. */
  readonly intervalMs: number;
  /** Rejects current and later callers with `LimiterClosedError`. Never closes the store or its Redis client. */
  close(): Promise<void>;
}

interface Waiter {
  /** Set for a tracked call: its id in the log. */
  id: string | undefined;
  resolve(): void;
  reject(error: Error): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** The tracked call a `withSlot` callback is running. */
interface Slot {
  id: string;
  /** The admitted call was taken by an acquire() (so something may have been sent). */
  used: boolean;
}

export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const issues = rateLimiterIssues(options);
  if (issues.length) throw new ValidationError('invalid rate limiter options', issues);
  const store = options.store ?? new MemoryStore();
  const ratePerSecond = options.ratePerSecond ?? 1;
  const intervalMs = (WINDOW_MS + (options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS)) / ratePerSecond;
  const trackedIntervalMs = WINDOW_MS / ratePerSecond;
  const limit = Math.max(1, Math.ceil(ratePerSecond));
  const key = options.key ?? 'default';
  const failFast = options.onStoreError === 'fail';
  const logger = options.logger;

  const waiters: Waiter[] = [];
  const slots = new AsyncLocalStorage<Slot>();
  const closing = new AbortController();
  let pumping = false;
  let closed = false;
  let lastStoreError: StoreError | undefined;

  function storeFailed(err: unknown): StoreError {
    const error = err instanceof StoreError ? err : new StoreError(store.name, err instanceof Error ? err.message : String(err), { cause: err });
    if (!lastStoreError) logger?.warn?.('tim-broadcast: rate-limit store failing', { store: store.name, error: error.message, onStoreError: failFast ? 'fail' : 'wait-and-retry' });
    lastStoreError = error;
    return error;
  }

  function storeAnswered(): void {
    if (lastStoreError) logger?.info?.('tim-broadcast: rate-limit store answering again', { store: store.name });
    lastStoreError = undefined;
  }

  /** Frees a tracked call's place `windowMs` from now (0: it sent nothing). Best effort: the place expires anyway. */
  function complete(id: string, windowMs: number): void {
    store.complete(key, id, windowMs).then(storeAnswered, (err) => void storeFailed(err));
  }

  function settle(waiter: Waiter): void {
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  function rejectAll(error: Error): void {
    for (const waiter of waiters.splice(0)) {
      settle(waiter);
      waiter.reject(error);
    }
  }

  /**
   * One loop per process asks the store to admit the waiter at the head of the line, sleeps when told to, and
   * lets that waiter go when the store admits it.
   */
  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    let failures = 0;
    try {
      while (waiters.length > 0 && !closed) {
        const head = waiters[0]!;
        let waitMs: number;
        try {
          ({ waitMs } = await store.reserve(key, { intervalMs: head.id ? trackedIntervalMs : intervalMs, limit, id: head.id, holdMs: HOLD_MS }));
          failures = 0;
          storeAnswered();
        } catch (err) {
          const error = storeFailed(err);
          if (failFast) rejectAll(error);
          else await sleep(backoff(++failures), closing.signal).catch(() => {});
          continue;
        }
        if (waitMs > 0) {
          await sleep(Math.min(POLL_MS, Math.ceil(waitMs)), closing.signal).catch(() => {});
          continue;
        }
        if (waiters[0] === head) {
          waiters.shift();
          settle(head);
          head.resolve();
        } else if (head.id) {
          complete(head.id, 0); // it aborted during the store call: nothing was sent, free its place
        }
      }
    } finally {
      pumping = false;
    }
  }

  /** Waits in line until the store admits a call (tracked under `id`, when given). */
  function take(signal: AbortSignal | undefined, id: string | undefined): Promise<void> {
    if (closed) return Promise.reject(new LimiterClosedError());
    if (signal?.aborted) return Promise.reject(new AbortError({ cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        id,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          reject(new AbortError({ cause: signal!.reason }));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      waiters.push(waiter);
      void pump();
    });
  }

  async function acquire(call: { signal?: AbortSignal } = {}): Promise<void> {
    const slot = slots.getStore();
    if (!slot) return take(call?.signal, undefined);
    if (!slot.used) {
      slot.used = true;
      return;
    }
    // another attempt inside withSlot (a retry): the previous one has completed
    complete(slot.id, WINDOW_MS);
    slot.id = randomUUID();
    slot.used = false;
    await take(call?.signal, slot.id);
    slot.used = true;
  }

  const limiter: RateLimiter = {
    acquire,
    async penalize(ms: number): Promise<void> {
      if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
        throw new ValidationError('invalid penalty', [{ path: ['ms'], message: 'expected a non-negative number of ms' }]);
      }
      try {
        await store.penalize(key, ms);
      } catch (err) {
        const error = storeFailed(err);
        // the next acquire() needs the store anyway; in wait-and-retry mode it waits there
        if (failFast) throw error;
      }
    },
    async withSlot<T>(fn: () => Promise<T>, call: { signal?: AbortSignal } = {}): Promise<T> {
      const slot: Slot = { id: randomUUID(), used: false };
      await take(call?.signal, slot.id);
      try {
        return await slots.run(slot, fn);
      } finally {
        complete(slot.id, slot.used ? WINDOW_MS : 0);
      }
    },
    get waiting() {
      return waiters.length;
    },
    get lastStoreError() {
      return lastStoreError;
    },
    store,
    ratePerSecond,
    intervalMs,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      closing.abort();
      rejectAll(new LimiterClosedError('rate limiter closed while waiting for a slot; nothing was sent'));
    },
  };
  return limiter;
}

function backoff(failures: number): number {
  const cap = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
  return cap / 2 + (Math.random() * cap) / 2;
}

/** Issues with limiter options, paths relative to the options object. */
export function rateLimiterIssues(options: RateLimiterOptions): ValidationIssue[] {
  if (!options || typeof options !== 'object') return [{ path: [], message: 'expected an options object' }];
  const issues: ValidationIssue[] = [];
  const { store, ratePerSecond, safetyMarginMs, key, onStoreError } = options;
  if (ratePerSecond !== undefined && (typeof ratePerSecond !== 'number' || !(ratePerSecond > 0) || !Number.isFinite(ratePerSecond))) {
    issues.push({ path: ['ratePerSecond'], message: 'expected a positive number' });
  }
  if (safetyMarginMs !== undefined && (typeof safetyMarginMs !== 'number' || !(safetyMarginMs >= 0) || !Number.isFinite(safetyMarginMs))) {
    issues.push({ path: ['safetyMarginMs'], message: 'expected a non-negative number of ms' });
  }
  if (key !== undefined && (typeof key !== 'string' || key.length === 0)) issues.push({ path: ['key'], message: 'expected a non-empty string' });
  if (onStoreError !== undefined && onStoreError !== 'fail' && onStoreError !== 'wait-and-retry') {
    issues.push({ path: ['onStoreError'], message: "expected 'fail' or 'wait-and-retry'" });
  }
  if (
    store !== undefined &&
    (typeof store?.reserve !== 'function' || typeof store?.complete !== 'function' || typeof store?.penalize !== 'function' || typeof store?.name !== 'string')
  ) {
    issues.push({ path: ['store'], message: 'expected a RateLimitStore (name, reserve, complete, penalize)' });
  }
  return issues;
}
