import { AbortError, MAX_TIMER_MS, type Logger } from '@tim-broadcast/core';
import type { OutboxStatus, WaitOptions } from '@tim-broadcast/rate-limit';
import {
  OutboxClosedError,
  OutboxExpiredError,
  OutboxFailedError,
  OutboxNotFoundError,
  OutboxRedisError,
  OutboxUncertainError,
  OutboxWaitTimeoutError,
} from './errors';
import type { OutboxClock } from './options';
import type { RedisLink, Subscriber } from './redis';
import { FINAL_STATES } from './status';
import { DEDUP_WINDOW_MS } from './window';

/** A read of the status at least this often while waiting, in case a pub/sub message was missed. */
const RECHECK_MS = 30_000;

interface Waiter {
  id: string;
  resolve(status: OutboxStatus): void;
  reject(error: Error): void;
  timeoutMs: number | undefined;
  deadline: NodeJS.Timeout | undefined;
  recheck: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  state: string | undefined;
  done: boolean;
}

export interface WaitersOptions {
  link: RedisLink;
  channel: string;
  status(id: string): Promise<OutboxStatus | undefined>;
  clock: OutboxClock;
  leaseMs: number;
  redisTimeoutMs: number;
  logger: Logger | undefined;
}

/**
 * `wait()`: one subscriber connection per outbox (opened on the first wait) hears "<state> <id> …" whenever
 * broadcasts end; each waiter then reads its status once. A slow re-read (every 30 s, and at the broadcast's
 * expiry) covers a missed message; every re-connection re-reads all. Quiet: no polling loop per waiter.
 */
export class Waiters {
  readonly #o: WaitersOptions;
  readonly #byId = new Map<string, Set<Waiter>>();
  #subscriber: Promise<Subscriber> | undefined;
  #closed = false;
  /** Fires on close(): drops the subscriber connection even while it is still connecting. */
  readonly #closing = new AbortController();

  constructor(options: WaitersOptions) {
    this.#o = options;
  }

  async wait(id: string, options: WaitOptions = {}): Promise<OutboxStatus> {
    if (this.#closed) throw new OutboxClosedError('outbox is closed; cannot wait');
    const { signal, timeoutMs } = options;
    if (signal?.aborted) throw new AbortError({ cause: signal.reason });
    // subscribed before the first read, so an end between the read and the subscription cannot be missed
    await this.#subscribe(signal);
    return new Promise<OutboxStatus>((resolve, reject) => {
      const waiter: Waiter = {
        id,
        resolve,
        reject,
        timeoutMs,
        deadline: undefined,
        recheck: undefined,
        signal,
        onAbort: () => this.#settle(waiter, new AbortError({ cause: signal!.reason })),
        state: undefined,
        done: false,
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      if (timeoutMs !== undefined) this.#setDeadline(waiter, timeoutMs);
      let set = this.#byId.get(id);
      if (!set) this.#byId.set(id, (set = new Set()));
      set.add(waiter);
      void this.#refresh(id, true);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    for (const set of this.#byId.values()) {
      for (const waiter of set) this.#settle(waiter, new OutboxClosedError('outbox closed while waiting; the broadcast carries on'));
    }
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber) await subscriber.then((s) => s.close()).catch(() => {});
  }

  #subscribe(signal: AbortSignal | undefined): Promise<void> {
    const { link, channel, redisTimeoutMs, logger } = this.#o;
    this.#subscriber ??= link.subscribe(
      channel,
      (message) => this.#heard(message),
      () => this.#refreshAll(),
      (err) => logger?.debug?.('tim-broadcast outbox: subscriber connection error', { error: err.message }),
      this.#closing.signal,
    );
    const pending = this.#subscriber;
    pending.catch(() => {
      if (this.#subscriber === pending) this.#subscriber = undefined;
    });
    // bounded: a subscription still connecting stays, and a later wait() uses it
    return new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const timer = setTimeout(() => fail(new OutboxRedisError(`could not subscribe within ${redisTimeoutMs} ms`)), redisTimeoutMs);
      const onAbort = () => fail(new AbortError({ cause: signal!.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });
      pending.then(
        () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        (err: unknown) => fail(err instanceof OutboxRedisError ? err : new OutboxRedisError(`could not subscribe: ${(err as Error)?.message ?? String(err)}`, { cause: err })),
      );
    });
  }

  #heard(message: string): void {
    const [, ...ids] = message.split(' ');
    for (const id of ids) if (this.#byId.has(id)) void this.#refresh(id, false);
  }

  #refreshAll(): void {
    for (const id of this.#byId.keys()) void this.#refresh(id, false);
  }

  /** Reads the status once and settles or re-arms every waiter of `id`. */
  async #refresh(id: string, first: boolean): Promise<void> {
    let status: OutboxStatus | undefined;
    try {
      status = await this.#o.status(id);
    } catch (err) {
      const waiters = this.#byId.get(id);
      if (!waiters) return;
      for (const waiter of waiters) {
        // the first read decides whether there is anything to wait for; later failures wait for the next read
        if (first && waiter.state === undefined) this.#settle(waiter, err instanceof Error ? err : new Error(String(err)));
        else this.#arm(waiter, undefined);
      }
      return;
    }
    for (const waiter of this.#byId.get(id) ?? []) {
      if (!status) this.#settle(waiter, new OutboxNotFoundError(id));
      else if (FINAL_STATES.has(status.state)) this.#settle(waiter, status);
      else this.#arm(waiter, status);
    }
  }

  /** Sets the default deadline on the first read, and the next safety re-read. */
  #arm(waiter: Waiter, status: OutboxStatus | undefined): void {
    const now = this.#o.clock.now();
    if (status) {
      if (waiter.timeoutMs === undefined && waiter.deadline === undefined) {
        // the latest it can still be on its way: sent before its expiry, re-sent within the dedup window, after a lease
        this.#setDeadline(waiter, clamp(status.expiresAt + DEDUP_WINDOW_MS + this.#o.leaseMs + 60_000 - now));
      }
      waiter.state = status.state;
    }
    clearTimeout(waiter.recheck);
    const untilExpiry = status && (status.state === 'queued' || status.state === 'scheduled') ? status.expiresAt - now + 10 : Infinity;
    waiter.recheck = setTimeout(() => void this.#refresh(waiter.id, false), clamp(Math.min(RECHECK_MS, untilExpiry)));
  }

  #setDeadline(waiter: Waiter, ms: number): void {
    waiter.deadline = setTimeout(() => this.#settle(waiter, new OutboxWaitTimeoutError(waiter.id, ms, waiter.state)), ms);
  }

  #settle(waiter: Waiter, outcome: OutboxStatus | Error): void {
    if (waiter.done) return;
    waiter.done = true;
    clearTimeout(waiter.deadline);
    clearTimeout(waiter.recheck);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    const set = this.#byId.get(waiter.id);
    set?.delete(waiter);
    if (set?.size === 0) this.#byId.delete(waiter.id);
    if (outcome instanceof Error) return waiter.reject(outcome);
    if (outcome.state === 'delivered') return waiter.resolve(outcome);
    if (outcome.state === 'failed') return waiter.reject(new OutboxFailedError(outcome));
    if (outcome.state === 'expired') return waiter.reject(new OutboxExpiredError(outcome));
    waiter.reject(new OutboxUncertainError(outcome));
  }
}

function clamp(ms: number): number {
  return Math.max(1, Math.min(MAX_TIMER_MS, Math.ceil(ms)));
}
