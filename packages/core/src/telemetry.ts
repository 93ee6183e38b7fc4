/**
 * `@tim-broadcast/core/telemetry`: what the tim-broadcast packages share to report through OpenTelemetry. Not for
 * applications (its API may change in any release); see the core README, "Telemetry", for what is reported.
 *
 * `@opentelemetry/api` is an optional peer dependency: it is loaded on first use, and when it is missing every
 * function here does nothing. With the API but no SDK registered, `Scope.tracer()` and `Scope.instruments()` answer
 * `undefined`, so callers skip all telemetry work.
 */
import { createRequire } from 'node:module';
import type * as OTel from '@opentelemetry/api';

export type OpenTelemetryApi = typeof OTel;
export type { Attributes, Context, Link, Meter, Span, Tracer } from '@opentelemetry/api';

declare const require: NodeJS.Require | undefined;

let api: OpenTelemetryApi | null | undefined;

/** `@opentelemetry/api` when it can be loaded (once, synchronously, in the ESM and the CJS build alike), else undefined. */
export function openTelemetry(): OpenTelemetryApi | undefined {
  if (api === undefined) {
    try {
      // CommonJS build: the module's own require; ESM build: one made for this file (the API ships CommonJS)
      const load = typeof require === 'function' ? require : createRequire(import.meta.url);
      api = load('@opentelemetry/api') as OpenTelemetryApi;
    } catch {
      api = null; // not installed (or unloadable): telemetry stays off, sending is unaffected
    }
  }
  return api ?? undefined;
}

/**
 * One instrumentation scope (a package): its tracer and its metric instruments, following the registered SDK.
 * Providers registered after the scope was made are picked up on the next call; each call costs a lookup or two.
 */
export class Scope<I> {
  readonly api: OpenTelemetryApi;
  readonly #name: string;
  readonly #build: (meter: OTel.Meter) => I;
  #tracerDelegate: unknown;
  #tracer: OTel.Tracer | undefined;
  #meterProvider: OTel.MeterProvider | undefined;
  #meter: OTel.Meter | undefined;
  #instruments: I | undefined;

  constructor(api: OpenTelemetryApi, name: string, build: (meter: OTel.Meter) => I) {
    this.api = api;
    this.#name = name;
    this.#build = build;
  }

  /** The SDK's tracer, or undefined when no tracer provider is registered. */
  tracer(): OTel.Tracer | undefined {
    const provider = this.api.trace.getTracerProvider() as OTel.TracerProvider & Partial<Pick<OTel.ProxyTracerProvider, 'getDelegate' | 'getDelegateTracer'>>;
    if (typeof provider.getDelegate !== 'function') return provider.getTracer(this.#name);
    const delegate = provider.getDelegate();
    if (delegate !== this.#tracerDelegate) {
      this.#tracerDelegate = delegate;
      this.#tracer = provider.getDelegateTracer!(this.#name);
    }
    return this.#tracer;
  }

  /** The instruments on the registered meter provider, or undefined when none is registered. */
  instruments(): I | undefined {
    const provider = this.api.metrics.getMeterProvider();
    if (provider !== this.#meterProvider) {
      this.#meterProvider = provider;
      const meter = provider.getMeter(this.#name);
      this.#meter = meter === this.api.createNoopMeter() ? undefined : meter;
      this.#instruments = this.#meter && this.#build(this.#meter);
    }
    return this.#instruments;
  }

  /** The meter of the last `instruments()` (to register batch observable callbacks on), or undefined. */
  get meter(): OTel.Meter | undefined {
    return this.#meter;
  }
}

/** What a batch sender (the queue, the outbox) tells the client's broadcast span through the context. */
export interface BatchInfo {
  /** Broadcasts merged into the call. */
  size: number;
  /** The other members' spans (their callers' traces). */
  links: OTel.Link[];
}

const BATCH_KEY_NAME = '@tim-broadcast/core batch';

/** The batch the client's current broadcast carries, if a batch sender set one. */
export function batchOf(api: OpenTelemetryApi, context: OTel.Context): BatchInfo | undefined {
  return context.getValue(api.createContextKey(BATCH_KEY_NAME)) as BatchInfo | undefined;
}

/** A broadcast's member waiting to be sent: where it came from and since when it waited. */
export interface BatchMember {
  /** The sender's context when it was accepted (undefined: none). */
  context: OTel.Context | undefined;
  /** When it started to wait (ms since the epoch); undefined when its wait was shown already (a re-send). */
  since: number | undefined;
}

/**
 * Runs `send` (a `client.broadcast` of the merged batch) as the batch's call: each member that came with a trace
 * gets a `${prefix}.wait` span in it, from `since` to now; the call runs in the first member's context (its span
 * is that trace's child) and links the other members' wait spans (or, without one, their own spans).
 */
export function runBatch<T>(scope: Scope<unknown>, prefix: string, members: BatchMember[], attributes: OTel.Attributes, send: () => Promise<T>): Promise<T> {
  const { api } = scope;
  const tracer = scope.tracer();
  if (!tracer) return send();
  const head = members[0]?.context ?? api.ROOT_CONTEXT;
  const links: OTel.Link[] = [];
  const now = Date.now();
  for (let i = 0; i < members.length; i++) {
    const member = members[i]!;
    const parent = member.context && api.trace.getSpanContext(member.context);
    if (!parent || !api.isSpanContextValid(parent)) continue;
    let linked = parent;
    if (member.since !== undefined) {
      const wait = tracer.startSpan(`${prefix}.wait`, { startTime: member.since, attributes: { ...attributes, 'tim.batch_size': members.length } }, member.context);
      wait.end(now);
      linked = wait.spanContext();
    }
    if (i > 0) links.push({ context: linked, attributes: { 'tim.link': 'batch member' } });
  }
  const context = head.setValue(api.createContextKey(BATCH_KEY_NAME), { size: members.length, links } satisfies BatchInfo);
  return api.context.with(context, send);
}

/** The active context, for a sender to carry it across an asynchronous hand-over (undefined without the API). */
export function activeContext(): OTel.Context | undefined {
  return openTelemetry()?.context.active();
}

/** A W3C `traceparent` for the span of `context`, or '' when it holds none. */
export function traceparentOf(api: OpenTelemetryApi, context: OTel.Context): string {
  const span = api.trace.getSpanContext(context);
  if (!span || !api.isSpanContextValid(span)) return '';
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A context continuing a stored `traceparent` (a remote parent), or undefined when there is none or it is malformed. */
export function contextFromTraceparent(api: OpenTelemetryApi, traceparent: string | undefined): OTel.Context | undefined {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!match) return undefined;
  const span: OTel.SpanContext = { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16), isRemote: true };
  if (!api.isSpanContextValid(span)) return undefined;
  return api.trace.setSpanContext(api.ROOT_CONTEXT, span);
}
