import {
  AbortError,
  MAX_MESSAGE_BYTES,
  parseBroadcastRequest,
  QueueClosedError,
  QueueFullError,
  throwIfIssues,
  TimeoutError,
  type BroadcastCallOptions,
  type BroadcastClient,
  type BroadcastRequest,
  type BroadcastRequestInput,
  type BroadcastResult,
  type RetryOptions,
} from '@tim-broadcast/core';
import type { BatchMember } from '@tim-broadcast/core/telemetry';
import { StoreError } from './errors';
import { Fifo } from './fifo';
import { mergeBatch, nextBatchSize, packable, type Packable } from './pack';
import type { RateLimiter } from './limiter';
import { closeOptionIssues, queueOptionIssues, sendIssues } from './queue-options';
import { queueTelemetry } from './telemetry';

export interface QueueResult extends BroadcastResult {
  /** How many queued requests shared this call (1 when sent alone). */
  batchSize: number;
}

export interface QueueSendOptions {
  /** Removes the request while it waits (rejecting with AbortError); passed on to the call only when it is sent alone. */
  signal?: AbortSignal;
  /** Derives the body `Random` from this key (see the client); such a request is never merged. */
  idempotencyKey?: string;
  /**
   * Bounds the whole life of this send, from the moment `send()` is called: waiting in the queue and for the
   * limiter, then the call and its retries (default the queue's `deadlineMs`). When it passes, the promise
   * rejects with a `TimeoutError` — or a `StoreError` if it passed while the rate-limit store was failing.
   */
  deadlineMs?: number;
  /** Per-attempt timeout of this broadcast's call (overrides the client's). A request with it is sent alone. */
  timeoutMs?: number;
  /** Retry policy of this broadcast's call (overrides the client's). A request with it is sent alone. */
  retry?: RetryOptions | false;
}

export interface BroadcastQueueOptions {
  client: BroadcastClient;
  /** Pack waiting requests with the same `From_Account` and `CloudCustomData` into one call (default false). */
  coalesce?: boolean;
  /** Waiting requests allowed before `send()` fails with QueueFullError (default 10,000). */
  maxQueued?: number;
  /** Byte budget of one call's MsgBody, UTF-8 JSON (default and maximum 12,000). */
  maxBytes?: number;
  /**
   * Calls in flight at once (default 1). 1 keeps strict order even across retries; more overlaps round trips,
   * useful only when a round trip is longer than the limiter's interval.
   */
  concurrency?: number;
  /** Default `deadlineMs` of every send (default none: see `send`). */
  deadlineMs?: number;
}

export interface BroadcastQueue {
  /** Queues a broadcast; resolves with the call's result once it is accepted. */
  send(request: BroadcastRequestInput, options?: QueueSendOptions): Promise<QueueResult>;
  /** Requests waiting, not yet handed to the client. */
  readonly size: number;
  /** Requests handed to the client and not settled. */
  readonly inFlight: number;
  /** The last error a call (or the limiter) failed with. */
  readonly lastError: Error | undefined;
  /** When `lastError` happened. */
  readonly lastErrorAt: Date | undefined;
  /** Resolves when nothing is waiting or in flight. */
  drain(): Promise<void>;
  /**
   * Stops intake (later sends fail with QueueClosedError) and drains. At the deadline, what still waits is
   * rejected with QueueClosedError and calls still in flight are aborted (their callers get QueueClosedError
   * too, since such a call may or may not have reached the server). Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

interface Entry extends Packable {
  queued: boolean;
  /** Order of arrival. */
  seq: number;
  /** This request's own call options (undefined when it has none: most requests). */
  call: Pick<QueueSendOptions, 'idempotencyKey' | 'timeoutMs' | 'retry'> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  deadlineMs: number | undefined;
  /** When the deadline passes (Date.now() ms). */
  deadlineAt: number | undefined;
  /** The sender's trace context and when it was queued (with `@opentelemetry/api` only). */
  trace: BatchMember | undefined;
  timer: NodeJS.Timeout | undefined;
  settled: boolean;
  resolve(result: QueueResult): void;
  reject(error: unknown): void;
}

/** Detaches a request's abort listener and deadline timer. */
function detach(entry: Entry): void {
  if (entry.onAbort) entry.signal!.removeEventListener('abort', entry.onAbort);
  clearTimeout(entry.timer);
  entry.onAbort = undefined;
  entry.timer = undefined;
}

export function createBroadcastQueue(options: BroadcastQueueOptions): BroadcastQueue {
  throwIfIssues('invalid broadcast queue options', queueOptionIssues(options));
  const { client } = options;
  const coalesce = options.coalesce ?? false;
  const maxQueued = options.maxQueued ?? 10_000;
  const maxBytes = options.maxBytes ?? MAX_MESSAGE_BYTES;
  const concurrency = options.concurrency ?? 1;
  const defaultDeadlineMs = options.deadlineMs;
  const limiter = client.limiter as Partial<RateLimiter> | undefined;
  // our limiter can hand a slot over: then each batch is packed right when it may be sent, so it fills up
  const slots = typeof limiter?.withSlot === 'function' ? (limiter as RateLimiter) : undefined;

  const waiting = new Fifo<Entry>();
  const stopping = new AbortController();
  let seq = 0;
  let inFlight = 0;
  let workers = 0;
  let closed = false;
  let closing: Promise<void> | undefined;
  let lastError: Error | undefined;
  let lastErrorAt: Date | undefined;
  const idle: (() => void)[] = [];
  const telemetry = queueTelemetry(client.sdkAppId, () => ({ waiting: waiting.size, inFlight }));

  function failed(error: Error): void {
    lastError = error;
    lastErrorAt = new Date();
  }

  /** Workers' waits for a slot, given up when nothing is left to send or the queue stops. */
  const slotWaits = new Set<AbortController>();

  function stop(reason?: unknown): void {
    stopping.abort(reason);
    for (const wait of slotWaits) wait.abort(stopping.signal.reason);
  }

  function changed(): void {
    if (waiting.size === 0) for (const wait of slotWaits) wait.abort();
    if (waiting.size === 0 && inFlight === 0 && idle.length) for (const done of idle.splice(0)) done();
  }

  function settle(entry: Entry, outcome: { result: QueueResult } | { error: unknown }): void {
    if (entry.settled) return;
    entry.settled = true;
    detach(entry);
    if ('result' in outcome) entry.resolve(outcome.result);
    else entry.reject(outcome.error);
  }

  function start(): void {
    while (workers < concurrency && workers < waiting.size && !stopping.signal.aborted) {
      workers++;
      // after the current tick, so a burst of send() calls is waiting by the time the first batch is packed
      setImmediate(work);
    }
  }

  async function work(): Promise<void> {
    try {
      while (waiting.size > 0 && !stopping.signal.aborted) {
        if (!slots) {
          await dispatch(take());
          continue;
        }
        const waitedSince = seq;
        // aborted when the queue empties while this worker waits (changed()) or when the queue stops (stop())
        const wait = new AbortController();
        slotWaits.add(wait);
        try {
          await slots.withSlot(
            () => {
              slotWaits.delete(wait); // the wait is over: nothing to abort any more
              return dispatch(take());
            },
            { signal: wait.signal },
          );
        } catch (err) {
          // only the wait for a slot can throw: the store failing ('fail', or past maxWaitMs), the limiter closed
          if (stopping.signal.aborted) break;
          if (wait.signal.aborted) continue; // everyone waiting left (deadline, abort): nothing to send
          const error = err instanceof Error ? err : new Error(String(err));
          failed(error);
          // no slot came: what waited through this whole wait fails with it; later arrivals wait for the next
          for (let entry = waiting.peek(); entry && entry.seq <= waitedSince; entry = waiting.peek()) settle(waiting.shift()!, { error });
          changed();
        } finally {
          slotWaits.delete(wait);
        }
      }
    } finally {
      workers--;
      changed();
    }
  }

  /** The next call: the head request, plus (when coalescing) the ones right behind it that fit, in order. */
  function take(): Entry[] {
    const size = nextBatchSize(waiting, { coalesce, maxBytes });
    const batch: Entry[] = [];
    for (let i = 0; i < size; i++) batch.push(waiting.shift()!);
    return batch;
  }

  async function dispatch(batch: Entry[]): Promise<void> {
    if (batch.length === 0) return; // everyone waiting left while the slot was awaited
    inFlight += batch.length;
    const alone = batch.length === 1 ? batch[0]! : undefined;
    // a batch cannot be half-aborted: callers' signals only reach the call when it carries their request alone
    const combined = alone?.signal ? either(alone.signal, stopping.signal) : undefined;
    const call: BroadcastCallOptions = {
      signal: combined?.signal ?? stopping.signal,
      ...definedOnly(alone?.call),
      ...deadlineOf(batch),
    };
    // a lone request's deadline is the call's own now; batch members keep their timers (see deadlineOf)
    if (alone) detach(alone);
    try {
      const send = () => client.broadcast(mergeBatch(batch.map((entry) => entry.request)), call);
      const result = await (telemetry ? telemetry.dispatch(batch.map((entry) => entry.trace!), send) : send());
      for (const entry of batch) settle(entry, { result: { ...result, batchSize: batch.length } });
    } catch (err) {
      let error = err instanceof Error ? err : new Error(String(err));
      if (stopping.signal.aborted && !alone?.signal?.aborted) {
        error = new QueueClosedError('broadcast queue closed at its deadline while this broadcast was in flight; it may or may not have been delivered');
        error.cause = err;
      }
      failed(error);
      for (const entry of batch) settle(entry, { error });
    } finally {
      combined?.dispose();
      inFlight -= batch.length;
      changed();
    }
  }

  /**
   * The call's deadline: a lone request's remaining time; for a batch, the latest of its members' (none if one
   * has none). A member whose own deadline passes first is told at that moment (its timer is still running).
   */
  function deadlineOf(batch: Entry[]): { deadlineMs?: number } {
    if (batch.some((entry) => entry.deadlineAt === undefined)) return {};
    const latest = Math.max(...batch.map((entry) => entry.deadlineAt!));
    return { deadlineMs: Math.max(1, Math.ceil(latest - Date.now())) };
  }

  /** The error of a send whose deadline passed: a StoreError while the rate-limit store fails, else a TimeoutError. */
  function deadlinePassed(entry: Entry, inFlightNow: boolean): Error {
    const storeError = limiter?.lastStoreError;
    const where = inFlightNow ? 'while its batch was in flight; it may or may not have been delivered' : 'while it waited to be sent; it was not sent';
    if (storeError instanceof StoreError && !inFlightNow) {
      return new StoreError(storeError.store, `still failing when the ${entry.deadlineMs} ms deadline passed; the broadcast was not sent`, { cause: storeError });
    }
    const error = new TimeoutError(entry.deadlineMs!);
    error.message = `the ${entry.deadlineMs} ms deadline passed ${where}`;
    return error;
  }

  function send(input: BroadcastRequestInput, call: QueueSendOptions = {}): Promise<QueueResult> {
    if (closed) return Promise.reject(new QueueClosedError());
    let request: BroadcastRequest;
    try {
      request = parseBroadcastRequest(input);
      throwIfIssues('invalid broadcast', sendIssues(request, call, maxBytes));
    } catch (err) {
      return Promise.reject(err);
    }
    const { signal, idempotencyKey, timeoutMs, retry } = call ?? {};
    const deadlineMs = call?.deadlineMs ?? defaultDeadlineMs;
    if (signal?.aborted) return Promise.reject(new AbortError({ cause: signal.reason }));
    if (waiting.size >= maxQueued) return Promise.reject(new QueueFullError(maxQueued));
    telemetry?.refresh();
    return new Promise<QueueResult>((resolve, reject) => {
      const own = idempotencyKey !== undefined || timeoutMs !== undefined || retry !== undefined;
      const entry: Entry = {
        ...packable(request, !own),
        queued: false,
        seq: ++seq,
        call: own ? { idempotencyKey, timeoutMs, retry } : undefined,
        signal,
        onAbort: undefined,
        deadlineMs,
        deadlineAt: deadlineMs === undefined ? undefined : Date.now() + deadlineMs,
        timer: undefined,
        trace: telemetry?.member(),
        settled: false,
        resolve,
        reject,
      };
      if (signal) {
        entry.onAbort = () => {
          if (!waiting.remove(entry)) return;
          settle(entry, { error: new AbortError({ cause: signal.reason }) });
          changed();
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      if (deadlineMs !== undefined) {
        entry.timer = setTimeout(() => {
          const queued = waiting.remove(entry);
          settle(entry, { error: deadlinePassed(entry, !queued) });
          if (queued) changed();
        }, deadlineMs);
      }
      waiting.push(entry);
      start();
    });
  }

  function drain(): Promise<void> {
    if (waiting.size === 0 && inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => idle.push(resolve));
  }

  function close(closeOptions: { timeoutMs?: number } = {}): Promise<void> {
    try {
      throwIfIssues('invalid close options', closeOptionIssues(closeOptions));
    } catch (err) {
      return Promise.reject(err);
    }
    const timeoutMs = closeOptions?.timeoutMs ?? 30_000;
    closed = true;
    closing ??= (async () => {
      const deadline = setTimeout(() => {
        stop(new QueueClosedError());
        const error = new QueueClosedError(`broadcast queue closed: not sent within the ${timeoutMs} ms shutdown deadline`);
        for (let entry = waiting.shift(); entry; entry = waiting.shift()) settle(entry, { error });
        changed();
      }, timeoutMs);
      await drain();
      clearTimeout(deadline);
      stop(); // a worker still waiting for a slot has nothing left to send
      telemetry?.close();
    })();
    return closing;
  }

  return {
    send,
    get size() {
      return waiting.size;
    },
    get inFlight() {
      return inFlight;
    },
    get lastError() {
      return lastError;
    },
    get lastErrorAt() {
      return lastErrorAt;
    },
    drain,
    close,
  };
}

/** The per-call options that were given (`retry` reaches the client as its per-call override). */
function definedOnly(call: Entry['call']): Partial<BroadcastCallOptions> {
  if (!call) return {};
  return Object.fromEntries(Object.entries(call).filter(([, value]) => value !== undefined)) as Partial<BroadcastCallOptions>;
}

/** A signal that fires when `a` or `b` does; `dispose` unhooks it (AbortSignal.any keeps dependants of a long-lived signal around). */
function either(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onA = () => controller.abort(a.reason);
  const onB = () => controller.abort(b.reason);
  if (a.aborted) onA();
  else if (b.aborted) onB();
  a.addEventListener('abort', onA, { once: true });
  b.addEventListener('abort', onB, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      a.removeEventListener('abort', onA);
      b.removeEventListener('abort', onB);
    },
  };
}
