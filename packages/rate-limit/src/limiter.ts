import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { AbortError, throwIfIssues, TimeoutError, ValidationError, numberIssue, type Limiter, type LimiterPermit, type Logger } from '@tim-broadcast/core';
import { systemClock, type Clock } from './clock';
import { LimiterClosedError, StoreError } from './errors';
import { rateLimiterIssues } from './limiter-options';
import { MemoryStore } from './stores/memory';
import type { RateLimitStore } from './stores/store';
import { limiterTelemetry } from './telemetry';

/** Default bound on one wait for a slot when the caller set no deadline; see `maxWaitMs`. */
export const DEFAULT_MAX_WAIT_MS = 60_000;

/** How long the store keeps the place of a call whose end is never reported (its process died). */
const HOLD_MS = 5_000;
/** While a permit is not released, its hold is renewed this often (a call can be in flight longer than HOLD_MS). */
const RENEW_MS = 2_000;
/** A permit not released after this is released by the limiter (and a warning logged once): a caller forgot. */
const MAX_PERMIT_MS = 60_000;
/** With a store that cannot push (no `watch`), a waiter behind a held place looks again this often. */
const POLL_MS = 100;
/** The store subscription is kept this long after the last waiter left. */
const IDLE_UNWATCH_MS = 5_000;
const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 2_000;

/**
 * What the limiter guarantees about the calls the server sees (see the README, "How the limit is kept"):
 * - `'spacing'` (default): consecutive calls arrive at least `1000 / ratePerSecond` ms apart;
 * - `'window'`: at most ⌊ratePerSecond⌋ calls arrive in any rolling second (uses more of the rate when round
 *   trips are long, for a server that counts per rolling second). At 1 call/s the two are the same.
 */
export type RateModel = 'spacing' | 'window';

export interface RateLimiterOptions {
  /** Where the shared schedule lives (default a new `MemoryStore`: this process only). */
  store?: RateLimitStore;
  /** Calls per second for the whole app (default 1; 5 on higher editions). */
  ratePerSecond?: number;
  /** Default `'spacing'`; see `RateModel`. */
  model?: RateModel;
  /** The schedule's name in the store (default `'default'`): use one key per SDKAppID, shared by all processes. */
  key?: string;
  /**
   * When the store fails: `'wait-and-retry'` (default) keeps callers waiting and retries the store with capped
   * exponential backoff; `'fail'` rejects the callers waiting at that moment with a `StoreError`.
   * Either way, nothing is admitted without the store.
   */
  onStoreError?: 'fail' | 'wait-and-retry';
  /**
   * Longest wait for one slot (default `DEFAULT_MAX_WAIT_MS`, 60 s), whatever the caller's signal: the wait then
   * fails with a `StoreError` if the store is failing, else with a `TimeoutError`. Nothing was sent.
   */
  maxWaitMs?: number;
  /** Told once when the store starts failing and once when it recovers (default `console`; `false`: silent). */
  logger?: Logger | false;
  /** Time source for waits and renewals (default the monotonic clock); a `MemoryStore` should share it. */
  clock?: Clock;
}

export interface RateLimiter extends Limiter {
  /**
   * Resolves when this caller may send one call, with a permit to `release()` once that call has ended (answered,
   * failed or aborted): its place is then held for the rest of the window. Until released, the place stays held
   * (at most 60 s). Callers are served first come, first served within the process. A broadcast client does all
   * this itself.
   */
  acquire(options?: { signal?: AbortSignal }): Promise<LimiterPermit>;
  /** Pushes the shared schedule back: next admission ≥ max(schedule, now) + ms. Used on 10023 and friends. */
  penalize(ms: number): Promise<void>;
  /**
   * Waits for a slot, then runs `fn`, so the caller can decide what to send at the moment it may send (the queue
   * and the outbox pack their batch there). The first `acquire()` made inside `fn` — the first attempt of a
   * broadcast client using this limiter — gets that slot's permit at once, instead of waiting for another; later
   * ones (retries) wait as usual. The client releases the permit when its attempt ends; if `fn` settles with the
   * permit never taken, the place is freed at once (nothing was sent), and if taken but not released, it is
   * released then. `signal` (and `maxWaitMs`) bound only the wait for the slot, not `fn`.
   */
  withSlot<T>(fn: () => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /** Callers waiting in this process. */
  readonly waiting: number;
  /** The store's last error, cleared when it answers again. */
  readonly lastStoreError: StoreError | undefined;
  readonly store: RateLimitStore;
  readonly ratePerSecond: number;
  readonly model: RateModel;
  /** `1000 / ratePerSecond`: admissions are never closer than this. */
  readonly intervalMs: number;
  readonly maxWaitMs: number;
  /** Rejects current and later callers with `LimiterClosedError`. Never closes the store or its Redis client. */
  close(): Promise<void>;
}

/** An admitted call. */
interface Slot {
  permit: LimiterPermit;
  /** Frees the place `windowMs` from now (0: nothing was sent). Idempotent. */
  finish(windowMs: number): void;
}

interface Waiter {
  /** The call's id in the store's log. */
  id: string;
  resolve(slot: Slot): void;
  leave(error: Error): void;
}

/** The slot a `withSlot` callback is running with, until the first acquire() inside it takes it. */
interface Handoff {
  /** The limiter whose slot it is. */
  owner: object;
  slot: Slot;
  taken: boolean;
  /** The handoff of an enclosing `withSlot` (of another limiter), still there to be taken. */
  outer: Handoff | undefined;
}

/**
 * One store for every limiter's handoffs. Node 20 walks each AsyncLocalStorage ever used on every promise it
 * creates, so a store per limiter would make every promise of a process with a thousand limiters a thousand times
 * dearer.
 */
const handoffs = new AsyncLocalStorage<Handoff>();

/** The pump's current sleep; news from the store can bring it forward. */
interface Sleep {
  at: number;
  wake(): void;
  bringForward?(inMs: number): void;
  /** Woken early when the last call of ours that holds the place has ended. */
  untilOwnCallEnds?: boolean;
}

export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  throwIfIssues('invalid rate limiter options', rateLimiterIssues(options));
  const clock = options.clock ?? systemClock;
  const store = options.store ?? new MemoryStore({ clock });
  const ratePerSecond = options.ratePerSecond ?? 1;
  const model = options.model ?? 'spacing';
  const intervalMs = 1_000 / ratePerSecond;
  // 'spacing': one place, freed `intervalMs` after the call ended; 'window': ⌊rate⌋ places, freed 1 s after
  const limit = model === 'spacing' ? 1 : Math.max(1, Math.floor(ratePerSecond));
  const windowMs = model === 'spacing' ? intervalMs : 1_000;
  const key = options.key ?? 'default';
  const failFast = options.onStoreError === 'fail';
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const logger: Logger | undefined = options.logger === false ? undefined : (options.logger ?? console);
  const telemetry = limiterTelemetry(store.name);

  const waiters: Waiter[] = [];
  /** This limiter's identity in `handoffs`. */
  const owner = {};
  let pumping = false;
  let closed = false;
  let lastStoreError: StoreError | undefined;
  let sleep: Sleep | undefined;
  /** Earliest clock time store news said a place frees, since the current reserve() was sent. */
  let newsAt = Infinity;
  let unwatch: (() => void) | undefined;
  let cancelIdle: (() => void) | undefined;
  let warnedUnreleased = false;
  /**
   * With one place (limit 1), what this process knows of it without asking: calls of ours admitted whose end the
   * store has not confirmed yet (the place is ours until then), and when the last confirmed one frees it (our clock).
   * Asking the store before then could only be refused: the pump waits instead, which saves a store step per call
   * and, with one process per key, the pub/sub subscription. Other processes' calls are still the store's to tell.
   */
  let ownHeld = 0;
  let ownFreeAt = -Infinity;

  function storeFailed(err: unknown): StoreError {
    const error = err instanceof StoreError ? err : new StoreError(store.name, err instanceof Error ? err.message : String(err), { cause: err });
    if (!lastStoreError) {
      logger?.warn?.('tim-broadcast: rate-limit store failing; nothing is admitted until it answers', {
        store: store.name,
        error: error.message,
        onStoreError: failFast ? 'fail' : 'wait-and-retry',
      });
    }
    lastStoreError = error;
    return error;
  }

  function storeAnswered(): void {
    if (lastStoreError) logger?.info?.('tim-broadcast: rate-limit store answering again', { store: store.name });
    lastStoreError = undefined;
  }

  /** A StoreError for a wait that ended while the store was failing. */
  function storeGaveOut(when: string, cause: unknown): StoreError {
    const last = lastStoreError!;
    const detail = last.message.replace(/^rate-limit store "[^"]*": /, '');
    return new StoreError(store.name, `still failing ${when} (${detail}); nothing was sent`, { cause: cause ?? last });
  }

  function aborted(reason: unknown): Error {
    const timeout = (reason as { name?: unknown } | null)?.name === 'TimeoutError';
    if (timeout && lastStoreError) return storeGaveOut('at the deadline', reason);
    return new AbortError({ cause: reason });
  }

  function waitedTooLong(): Error {
    if (lastStoreError) return storeGaveOut(`after ${maxWaitMs} ms of waiting for a slot (maxWaitMs)`, lastStoreError);
    const error = new TimeoutError(maxWaitMs);
    error.message = `no rate-limit slot within ${maxWaitMs} ms (maxWaitMs); nothing was sent`;
    return error;
  }

  /** An admitted call's place: renewed while in flight, freed `windowMs` after release(). */
  function grant(id: string): Slot {
    const granted = clock.now();
    let done = false;
    ownHeld++;
    let cancelRenew = clock.setTimer(renew, RENEW_MS, { weak: true });
    function renew(): void {
      if (done) return;
      if (clock.now() - granted >= MAX_PERMIT_MS) {
        if (!warnedUnreleased) logger?.warn?.('tim-broadcast: a rate-limit permit was not released within 60 s; call permit.release() when the call ends');
        warnedUnreleased = true;
        return finish(windowMs);
      }
      store.hold?.(key, id, HOLD_MS).then(storeAnswered, storeFailed);
      cancelRenew = clock.setTimer(renew, RENEW_MS, { weak: true });
    }
    function finish(ms: number): void {
      if (done) return;
      done = true;
      cancelRenew();
      store.complete(key, id, ms).then(
        () => {
          storeAnswered();
          // the store frees the place `ms` after it ran this step, which was before its answer reached us
          ownFreeAt = Math.max(ownFreeAt, clock.now() + ms);
          ownCallEnded();
        },
        (err: unknown) => {
          storeFailed(err);
          ownCallEnded();
        },
      );
    }
    return { permit: { release: () => finish(windowMs) }, finish };
  }

  function ownCallEnded(): void {
    ownHeld--;
    if (ownHeld === 0 && sleep?.untilOwnCallEnds) sleep.wake();
  }

  function pause(ms: number, interruptible: boolean, untilOwnCallEnds = false): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        cancel();
        if (sleep === current) sleep = undefined;
        resolve();
      };
      let cancel = clock.setTimer(wake, ms);
      const current: Sleep = { at: clock.now() + ms, wake, untilOwnCallEnds };
      if (interruptible) {
        current.bringForward = (inMs) => {
          const at = clock.now() + inMs;
          if (at >= current.at) return;
          current.at = at;
          cancel();
          cancel = clock.setTimer(wake, inMs);
        };
      }
      sleep = current;
    });
  }

  /** News from the store: a place frees `inMs` from now (0: look again). */
  function onFreed(inMs: number): void {
    const ms = Math.max(0, Math.ceil(inMs));
    newsAt = Math.min(newsAt, clock.now() + ms);
    sleep?.bringForward?.(ms);
  }

  /** Subscribes to store news on the first wait (an idle limiter admits without it). */
  function startWatching(): void {
    if (!unwatch && store.watch) unwatch = store.watch(key, onFreed);
  }

  function stopWatchingWhenIdle(): void {
    if (!unwatch || cancelIdle) return;
    cancelIdle = clock.setTimer(
      () => {
        cancelIdle = undefined;
        if (pumping || waiters.length > 0) return;
        unwatch?.();
        unwatch = undefined;
      },
      IDLE_UNWATCH_MS,
      { weak: true },
    );
  }

  /**
   * One loop per process asks the store to admit the waiter at the head of the line, sleeps until the time the
   * store announced (or news of a freed place), and lets that waiter go when the store admits it.
   */
  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    cancelIdle?.();
    cancelIdle = undefined;
    let failures = 0;
    try {
      while (waiters.length > 0 && !closed) {
        const head = waiters[0]!;
        if (limit === 1 && !lastStoreError) {
          // our own last call still holds the one place: wait for its end (bounded: the store's hold would expire)
          if (ownHeld > 0) {
            await pause(HOLD_MS, true, true);
            continue;
          }
          const ownMs = ownFreeAt - clock.now();
          if (ownMs > 0) {
            await pause(Math.ceil(ownMs), true);
            continue;
          }
        }
        let waitMs: number;
        newsAt = Infinity;
        try {
          ({ waitMs } = await store.reserve(key, { intervalMs, limit, id: head.id, holdMs: HOLD_MS }));
          failures = 0;
          storeAnswered();
        } catch (err) {
          const error = storeFailed(err);
          if (failFast) for (const waiter of waiters.slice()) waiter.leave(error);
          else await pause(backoff(++failures), false);
          continue;
        }
        if (waitMs > 0) {
          startWatching();
          let ms = Math.max(1, Math.ceil(waitMs));
          if (!store.watch) ms = Math.min(ms, POLL_MS);
          ms = Math.min(ms, Math.max(0, newsAt - clock.now()));
          await pause(ms, true);
          continue;
        }
        const slot = grant(head.id);
        if (waiters[0] === head) {
          waiters.shift();
          head.resolve(slot);
        } else {
          slot.finish(0); // it left during the store call: nothing was sent, free its place
        }
      }
    } finally {
      pumping = false;
      stopWatchingWhenIdle();
    }
  }

  /** Waits in line until the store admits a call. */
  function take(signal: AbortSignal | undefined): Promise<Slot> {
    if (closed) return Promise.reject(new LimiterClosedError());
    if (signal?.aborted) return Promise.reject(aborted(signal.reason));
    const asked = telemetry ? clock.now() : 0;
    return new Promise<Slot>((resolve, reject) => {
      const onAbort = () => waiter.leave(aborted(signal!.reason));
      const cancelMaxWait = clock.setTimer(() => waiter.leave(waitedTooLong()), maxWaitMs);
      const settle = () => {
        signal?.removeEventListener('abort', onAbort);
        cancelMaxWait();
      };
      const waiter: Waiter = {
        id: randomUUID(),
        resolve(slot) {
          settle();
          telemetry?.admitted(clock.now() - asked);
          resolve(slot);
        },
        leave(error) {
          const i = waiters.indexOf(waiter);
          if (i < 0) return;
          waiters.splice(i, 1);
          settle();
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.push(waiter);
      void pump();
    });
  }

  function checkSignal(call: { signal?: AbortSignal } | undefined, what: string): void {
    const signal = call?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new ValidationError(`invalid ${what} options`, [{ path: ['signal'], message: 'expected an AbortSignal' }]);
    }
  }

  const limiter: RateLimiter = {
    async acquire(call = {}) {
      checkSignal(call, 'acquire');
      let handoff = handoffs.getStore();
      while (handoff && handoff.owner !== owner) handoff = handoff.outer;
      if (handoff && !handoff.taken) {
        handoff.taken = true;
        return handoff.slot.permit;
      }
      return (await take(call?.signal)).permit;
    },
    async penalize(ms) {
      throwIfIssues('invalid penalty', [numberIssue(ms, ['ms'], 'ms') ?? (ms === undefined ? { path: ['ms'], message: 'expected a number of ms' } : undefined)]);
      try {
        await store.penalize(key, ms);
        storeAnswered();
      } catch (err) {
        const error = storeFailed(err);
        // the next acquire() needs the store anyway; in wait-and-retry mode it waits there
        if (failFast) throw error;
      }
    },
    async withSlot(fn, call = {}) {
      checkSignal(call, 'withSlot');
      if (typeof fn !== 'function') throw new ValidationError('invalid withSlot call', [{ path: ['fn'], message: 'expected a function' }]);
      const handoff: Handoff = { owner, slot: await take(call?.signal), taken: false, outer: handoffs.getStore() };
      try {
        return await handoffs.run(handoff, fn);
      } finally {
        handoff.slot.finish(handoff.taken ? windowMs : 0);
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
    model,
    intervalMs,
    maxWaitMs,
    async close() {
      if (closed) return;
      closed = true;
      const error = new LimiterClosedError('rate limiter closed while waiting for a slot; nothing was sent');
      for (const waiter of waiters.slice()) waiter.leave(error);
      sleep?.wake();
      cancelIdle?.();
      unwatch?.();
      unwatch = undefined;
    },
  };
  return limiter;
}

function backoff(failures: number): number {
  const cap = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
  return cap / 2 + (Math.random() * cap) / 2;
}
