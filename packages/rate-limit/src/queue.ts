import {
  AbortError,
  MAX_MESSAGE_BYTES,
  messageBytes,
  parseBroadcastRequest,
  QueueClosedError,
  QueueFullError,
  randomFromKey,
  ValidationError,
  type BroadcastClient,
  type BroadcastRequest,
  type BroadcastRequestInput,
  type BroadcastResult,
  type ValidationIssue,
} from '@tim-broadcast/core';
import { Fifo } from './fifo';
import { mergeBatch, nextBatchSize, packable, type Packable } from './pack';
import type { RateLimiter } from './limiter';

export interface QueueResult extends BroadcastResult {
  /** How many queued requests shared this call (1 when sent alone). */
  batchSize: number;
}

export interface QueueSendOptions {
  /** Removes the request while it waits (rejecting with AbortError); passed on to the call only when it is sent alone. */
  signal?: AbortSignal;
  /** Derives the body `Random` from this key (see the client); such a request is never merged. */
  idempotencyKey?: string;
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
  idempotencyKey: string | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  resolve(result: QueueResult): void;
  reject(error: unknown): void;
}

export function createBroadcastQueue(options: BroadcastQueueOptions): BroadcastQueue {
  const issues = queueOptionIssues(options);
  if (issues.length) throw new ValidationError('invalid broadcast queue options', issues);
  const { client } = options;
  const coalesce = options.coalesce ?? false;
  const maxQueued = options.maxQueued ?? 10_000;
  const maxBytes = options.maxBytes ?? MAX_MESSAGE_BYTES;
  const concurrency = options.concurrency ?? 1;
  const limiter = client.limiter as Partial<RateLimiter> | undefined;
  // our limiter can hand a slot over: then each batch is packed right when it may be sent, so it fills up
  const slots = typeof limiter?.withSlot === 'function' ? (limiter as RateLimiter) : undefined;

  const waiting = new Fifo<Entry>();
  const stopping = new AbortController();
  let inFlight = 0;
  let workers = 0;
  let closed = false;
  let closing: Promise<void> | undefined;
  let lastError: Error | undefined;
  let lastErrorAt: Date | undefined;
  const idle: (() => void)[] = [];

  function failed(error: Error): void {
    lastError = error;
    lastErrorAt = new Date();
  }

  function changed(): void {
    if (waiting.size === 0 && inFlight === 0 && idle.length) for (const done of idle.splice(0)) done();
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
        try {
          await slots.withSlot(() => dispatch(take()), { signal: stopping.signal });
        } catch (err) {
          // only the wait for a slot can throw: a store failing with onStoreError 'fail', or the limiter closed
          if (stopping.signal.aborted) break;
          const error = err instanceof Error ? err : new Error(String(err));
          failed(error);
          for (let entry = waiting.shift(); entry; entry = waiting.shift()) leave(entry).reject(error);
        }
      }
    } finally {
      workers--;
      changed();
    }
  }

  /** Detaches a request from its waiting-state abort listener. */
  function leave(entry: Entry): Entry {
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
    return entry;
  }

  /** The next call: the head request, plus (when coalescing) the ones right behind it that fit, in order. */
  function take(): Entry[] {
    const size = nextBatchSize(waiting, { coalesce, maxBytes });
    const batch: Entry[] = [];
    for (let i = 0; i < size; i++) batch.push(leave(waiting.shift()!));
    return batch;
  }

  async function dispatch(batch: Entry[]): Promise<void> {
    if (batch.length === 0) return; // everyone waiting aborted while the slot was awaited
    inFlight += batch.length;
    const alone = batch.length === 1 ? batch[0]! : undefined;
    // a batch cannot be half-aborted: callers' signals only reach the call when it carries their request alone
    const combined = alone?.signal ? either(alone.signal, stopping.signal) : undefined;
    const signal = combined?.signal ?? stopping.signal;
    try {
      const result = await client.broadcast(mergeBatch(batch.map((entry) => entry.request)), { signal, idempotencyKey: alone?.idempotencyKey });
      for (const entry of batch) entry.resolve({ ...result, batchSize: batch.length });
    } catch (err) {
      let error = err instanceof Error ? err : new Error(String(err));
      if (stopping.signal.aborted && !alone?.signal?.aborted) {
        error = new QueueClosedError('broadcast queue closed at its deadline while this broadcast was in flight; it may or may not have been delivered');
        error.cause = err;
      }
      failed(error);
      for (const entry of batch) entry.reject(error);
    } finally {
      combined?.dispose();
      inFlight -= batch.length;
      changed();
    }
  }

  function send(input: BroadcastRequestInput, call: QueueSendOptions = {}): Promise<QueueResult> {
    if (closed) return Promise.reject(new QueueClosedError());
    let request: BroadcastRequest;
    try {
      request = parseBroadcastRequest(input);
      checkCall(request, call, maxBytes);
    } catch (err) {
      return Promise.reject(err);
    }
    const { signal, idempotencyKey } = call ?? {};
    if (signal?.aborted) return Promise.reject(new AbortError({ cause: signal.reason }));
    if (waiting.size >= maxQueued) return Promise.reject(new QueueFullError(maxQueued));
    return new Promise<QueueResult>((resolve, reject) => {
      const entry: Entry = {
        ...packable(request, idempotencyKey === undefined),
        queued: false,
        idempotencyKey,
        signal,
        onAbort: undefined,
        resolve,
        reject,
      };
      if (signal) {
        entry.onAbort = () => {
          if (!waiting.remove(entry)) return;
          reject(new AbortError({ cause: signal.reason }));
          changed();
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
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
    const timeoutMs = closeOptions?.timeoutMs ?? 30_000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
      return Promise.reject(new ValidationError('invalid close options', [{ path: ['timeoutMs'], message: 'expected a non-negative number of ms' }]));
    }
    closed = true;
    closing ??= (async () => {
      const deadline = setTimeout(() => {
        stopping.abort(new QueueClosedError());
        const error = new QueueClosedError(`broadcast queue closed: not sent within the ${timeoutMs} ms shutdown deadline`);
        for (let entry = waiting.shift(); entry; entry = waiting.shift()) leave(entry).reject(error);
        changed();
      }, timeoutMs);
      await drain();
      clearTimeout(deadline);
      stopping.abort(); // a worker still waiting for a slot has nothing left to send
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

function checkCall(request: BroadcastRequest, call: QueueSendOptions, maxBytes: number): void {
  const issues: ValidationIssue[] = [];
  if (call !== undefined && (call === null || typeof call !== 'object')) {
    issues.push({ path: ['options'], message: 'expected an options object' });
  } else {
    const { signal, idempotencyKey } = call;
    if (signal !== undefined && !(signal instanceof AbortSignal)) issues.push({ path: ['signal'], message: 'expected an AbortSignal' });
    if (idempotencyKey !== undefined) {
      if (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0) issues.push({ path: ['idempotencyKey'], message: 'expected a non-empty string' });
      else if (request.Random !== undefined && request.Random !== randomFromKey(idempotencyKey)) {
        issues.push({ path: ['idempotencyKey'], message: 'give either Random or idempotencyKey, not both' });
      }
    }
  }
  const bytes = messageBytes(request.MsgBody);
  if (bytes > maxBytes) issues.push({ path: ['MsgBody'], message: `MsgBody is ${bytes} bytes; the queue's maxBytes is ${maxBytes} (UTF-8 JSON)` });
  if (issues.length) throw new ValidationError('invalid broadcast', issues);
}

function queueOptionIssues(options: BroadcastQueueOptions): ValidationIssue[] {
  if (!options || typeof options !== 'object') return [{ path: [], message: 'expected an options object' }];
  const issues: ValidationIssue[] = [];
  if (typeof options.client?.broadcast !== 'function') issues.push({ path: ['client'], message: 'expected a BroadcastClient' });
  issues.push(...queueTuningIssues(options));
  return issues;
}

/** Issues with coalesce, maxQueued, maxBytes and concurrency; shared with createBroadcaster. */
export function queueTuningIssues(options: Pick<BroadcastQueueOptions, 'coalesce' | 'maxQueued' | 'maxBytes' | 'concurrency'>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const { coalesce, maxQueued, maxBytes, concurrency } = options;
  if (coalesce !== undefined && typeof coalesce !== 'boolean') issues.push({ path: ['coalesce'], message: 'expected a boolean' });
  if (maxQueued !== undefined && !(Number.isInteger(maxQueued) && maxQueued > 0)) issues.push({ path: ['maxQueued'], message: 'expected a positive integer' });
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0 && maxBytes <= MAX_MESSAGE_BYTES)) {
    issues.push({ path: ['maxBytes'], message: `expected an integer from 1 to ${MAX_MESSAGE_BYTES}` });
  }
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) issues.push({ path: ['concurrency'], message: 'expected a positive integer' });
  return issues;
}
