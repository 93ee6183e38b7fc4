import {
  contextFromTraceparent,
  openTelemetry,
  runBatch,
  Scope,
  traceparentOf,
  type Attributes,
  type BatchMember,
  type Meter,
} from '@tim-broadcast/core/telemetry';
import type { Counts } from './store';

/** The outbox's metric instruments (see the README, "Telemetry"). */
function instruments(meter: Meter) {
  return {
    backlog: meter.createObservableGauge('tim_broadcast.outbox.backlog', {
      unit: '{broadcast}',
      description: 'Broadcasts in the outbox not yet finished, by tim.outbox.state: queued (due, not taken), in_progress (held by a deliverer) or scheduled',
    }),
    oldestAge: meter.createObservableGauge('tim_broadcast.outbox.oldest_age', {
      unit: 's',
      description: 'How long the oldest due, unfinished broadcast has been due (0 when there is none)',
    }),
    batchSize: meter.createHistogram('tim_broadcast.outbox.batch.size', {
      unit: '{broadcast}',
      description: 'Outbox broadcasts merged into one call (1 when sent alone), re-sends included',
      advice: { explicitBucketBoundaries: [1, 2, 4, 8, 16, 32, 64, 128, 256] },
    }),
    finished: meter.createCounter('tim_broadcast.outbox.finished', {
      unit: '{broadcast}',
      description: 'Broadcasts this process saw reach a final state, by tim.outbox.state: delivered, failed, expired or uncertain',
    }),
  };
}

type Instruments = ReturnType<typeof instruments>;

let scope: Scope<Instruments> | null | undefined;

function outboxScope(): Scope<Instruments> | undefined {
  if (scope === undefined) {
    const api = openTelemetry();
    scope = api ? new Scope(api, '@tim-broadcast/outbox', instruments) : null;
  }
  return scope ?? undefined;
}

/** What a stored broadcast carries for tracing: its enqueuer's `traceparent` and when it became due. */
export interface StoredTrace {
  traceparent: string;
  /** ms since the epoch (the outbox clock). */
  dueAt: number | undefined;
}

export interface OutboxTelemetry {
  /**
   * Runs the enqueue in a `tim_broadcast.outbox.enqueue` span (a producer span in the caller's trace); `store` gets
   * the `traceparent` to keep with the broadcast ('' when not traced).
   */
  enqueue<T extends { id: string; duplicate: boolean }>(bytes: number, store: (traceparent: string) => Promise<T>): Promise<T>;
  /**
   * Sends a batch through `send` in its first member's trace, linked to the others (see `runBatch`); on a first
   * send, each traced member gets a `tim_broadcast.outbox.wait` span from when it was due.
   */
  dispatch<T>(members: StoredTrace[], firstSend: boolean, send: () => Promise<T>): Promise<T>;
  finished(state: 'delivered' | 'failed' | 'expired' | 'uncertain', count: number): void;
  /** Follows an SDK registered after the outbox was made (the gauges move to the new meter provider). */
  refresh(): void;
  close(): void;
}

/** An outbox's telemetry; undefined without `@opentelemetry/api`. `counts` reads the backlog (one Redis call per collection). */
export function outboxTelemetry(name: string, counts: () => Promise<{ counts: Counts; now: number }>): OutboxTelemetry | undefined {
  const s = outboxScope();
  if (!s) return undefined;
  const api = s.api;
  const attributes: Attributes = { 'tim.outbox.name': name };
  const states = ['queued', 'in_progress', 'scheduled'].map((state) => ({ ...attributes, 'tim.outbox.state': state }));
  let observed: { instruments: Instruments; meter: Meter } | undefined;
  let closed = false;

  const observe = async (result: { observe(metric: Instruments['backlog'], value: number, attributes: Attributes): void }) => {
    const instruments = observed?.instruments;
    if (!instruments) return;
    let read: Awaited<ReturnType<typeof counts>>;
    try {
      read = await counts();
    } catch {
      return; // Redis did not answer: no points this time (health() reports the failure)
    }
    const { counts: c, now } = read;
    result.observe(instruments.backlog, Math.max(0, c.length - c.pending), states[0]!);
    result.observe(instruments.backlog, c.pending, states[1]!);
    result.observe(instruments.backlog, c.scheduled, states[2]!);
    result.observe(instruments.oldestAge, c.oldestAt === undefined ? 0 : Math.max(0, now - c.oldestAt) / 1_000, attributes);
  };

  function refresh(): void {
    const next = closed ? undefined : s!.instruments();
    if (next === observed?.instruments) return;
    observed?.meter.removeBatchObservableCallback(observe, [observed.instruments.backlog, observed.instruments.oldestAge]);
    observed = next && { instruments: next, meter: s!.meter! };
    observed?.meter.addBatchObservableCallback(observe, [observed.instruments.backlog, observed.instruments.oldestAge]);
  }
  refresh();

  return {
    async enqueue(bytes, store) {
      const tracer = s.tracer();
      if (!tracer) return store('');
      const parent = api.context.active();
      const span = tracer.startSpan('tim_broadcast.outbox.enqueue', { kind: api.SpanKind.PRODUCER, attributes: { ...attributes, 'tim.body_bytes': bytes } }, parent);
      try {
        const result = await store(traceparentOf(api, api.trace.setSpan(parent, span)));
        span.setAttributes({ 'tim.outbox.id': result.id, 'tim.outbox.duplicate': result.duplicate });
        return result;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        span.setAttribute('error.type', error.name);
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: error.message });
        throw err;
      } finally {
        span.end();
      }
    },
    dispatch(members, firstSend, send) {
      s.instruments()?.batchSize.record(members.length, attributes);
      const batch: BatchMember[] = members.map((m) => ({ context: contextFromTraceparent(api, m.traceparent), since: firstSend ? m.dueAt : undefined }));
      // the deliverer's loop must not lend its own context (whoever called start()) to a broadcast that has none
      return api.context.with(api.ROOT_CONTEXT, () => runBatch(s, 'tim_broadcast.outbox', batch, attributes, send));
    },
    finished(state, count) {
      if (count > 0) s.instruments()?.finished.add(count, { ...attributes, 'tim.outbox.state': state });
    },
    refresh,
    close() {
      closed = true;
      refresh();
    },
  };
}
