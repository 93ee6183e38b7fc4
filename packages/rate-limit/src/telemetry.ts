import { openTelemetry, runBatch, Scope, type Attributes, type BatchMember, type Meter } from '@tim-broadcast/core/telemetry';

/** The limiter's and the queue's metric instruments (see the README, "Telemetry"). */
function instruments(meter: Meter) {
  return {
    limiterWait: meter.createHistogram('tim_broadcast.limiter.wait.duration', {
      unit: 's',
      description: 'Time a call waited for a rate-limit slot (acquire or withSlot) until it was admitted, by tim.limiter.store',
      advice: { explicitBucketBoundaries: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60] },
    }),
    queueDepth: meter.createObservableGauge('tim_broadcast.queue.depth', {
      unit: '{broadcast}',
      description: 'Broadcasts in a queue, by tim.queue.state: waiting (not yet handed to the client) or in_flight',
    }),
    batchSize: meter.createHistogram('tim_broadcast.queue.batch.size', {
      unit: '{broadcast}',
      description: 'Queued broadcasts merged into one call (1 when sent alone)',
      advice: { explicitBucketBoundaries: [1, 2, 4, 8, 16, 32, 64, 128, 256] },
    }),
  };
}

type Instruments = ReturnType<typeof instruments>;

let scope: Scope<Instruments> | null | undefined;

/** The package's scope, or undefined without `@opentelemetry/api`. */
function rateLimitScope(): Scope<Instruments> | undefined {
  if (scope === undefined) {
    const api = openTelemetry();
    scope = api ? new Scope(api, '@tim-broadcast/rate-limit', instruments) : null;
  }
  return scope ?? undefined;
}

/** Reports a limiter's admissions; undefined without `@opentelemetry/api`. */
export function limiterTelemetry(store: string): { admitted(waitedMs: number): void } | undefined {
  const s = rateLimitScope();
  if (!s) return undefined;
  const attributes = { 'tim.limiter.store': store };
  return {
    admitted(waitedMs) {
      s.instruments()?.limiterWait.record(Math.max(0, waitedMs) / 1_000, attributes);
    },
  };
}

export interface QueueTelemetry {
  /** Where a request comes from (the caller's context) and when it started to wait. */
  member(): BatchMember;
  /** Sends a batch through `send`, in its first member's trace (see `runBatch`), recording its size. */
  dispatch<T>(members: BatchMember[], send: () => Promise<T>): Promise<T>;
  /** Follows an SDK registered after the queue was made (its depth gauge moves to the new meter provider). */
  refresh(): void;
  /** Stops reporting the queue's depth. */
  close(): void;
}

/** A queue's telemetry; undefined without `@opentelemetry/api`. */
export function queueTelemetry(sdkAppId: number, depth: () => { waiting: number; inFlight: number }): QueueTelemetry | undefined {
  const s = rateLimitScope();
  if (!s) return undefined;
  const attributes: Attributes = { 'tim.sdkappid': sdkAppId };
  const waitingAttributes = { ...attributes, 'tim.queue.state': 'waiting' };
  const inFlightAttributes = { ...attributes, 'tim.queue.state': 'in_flight' };
  let gauge: Instruments['queueDepth'] | undefined;
  let closed = false;
  const observe = (result: { observe(value: number, attributes: Attributes): void }) => {
    const now = depth();
    result.observe(now.waiting, waitingAttributes);
    result.observe(now.inFlight, inFlightAttributes);
  };
  function refresh(): void {
    const next = closed ? undefined : s!.instruments()?.queueDepth;
    if (next === gauge) return;
    gauge?.removeCallback(observe);
    gauge = next;
    gauge?.addCallback(observe);
  }
  refresh();
  return {
    member: () => ({ context: s.api.context.active(), since: Date.now() }),
    dispatch(members, send) {
      s.instruments()?.batchSize.record(members.length, attributes);
      return runBatch(s, 'tim_broadcast.queue', members, attributes, send);
    },
    refresh,
    close() {
      closed = true;
      refresh();
    },
  };
}
