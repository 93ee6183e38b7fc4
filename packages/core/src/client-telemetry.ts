import { TransportError } from '@tim-broadcast/transport';
import type { BroadcastResult, RetryEvent } from './client';
import { ApiError } from './errors/classes';
import { BROADCAST_PATH, redactUrl } from './regions';
import { batchOf, openTelemetry, Scope, type Attributes, type Context, type Meter, type OpenTelemetryApi, type Span, type Tracer } from './telemetry';

/** The client's metric instruments (see the README, "Telemetry"). */
function instruments(meter: Meter) {
  return {
    calls: meter.createCounter('tim_broadcast.calls', {
      unit: '{call}',
      description: 'client.broadcast() calls that ended, by tim.outcome (accepted, failed) with tim.error_code (the ErrorCode, when the API answered) and error.type',
    }),
    callDuration: meter.createHistogram('tim_broadcast.call.duration', {
      unit: 's',
      description: 'Duration of a client.broadcast() call: limiter waits, every attempt and the backoff between them',
      advice: { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120] },
    }),
    attempts: meter.createHistogram('tim_broadcast.attempts', {
      unit: '{attempt}',
      description: 'HTTP attempts per client.broadcast() call (1 when the first was answered for good)',
      advice: { explicitBucketBoundaries: [1, 2, 3, 4, 5, 6, 8, 10] },
    }),
    attemptDuration: meter.createHistogram('tim_broadcast.attempt.duration', {
      unit: 's',
      description: 'Duration of one HTTP attempt to send_broadcast_msg, by http.response.status_code, error.type and tim.error_code',
      advice: { explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
    }),
    bodySize: meter.createHistogram('tim_broadcast.body.size', {
      unit: 'By',
      description: 'UTF-8 bytes of the request body of a client.broadcast() call',
      advice: { explicitBucketBoundaries: [256, 512, 1024, 2048, 4096, 8192, 12000, 16384] },
    }),
    throttled: meter.createCounter('tim_broadcast.throttled', {
      unit: '{answer}',
      description: 'Answers saying the app broadcasts too fast (10023 and the other throttling ErrorCodes), by tim.error_code',
    }),
  };
}

type Instruments = ReturnType<typeof instruments>;

const SUPPRESS_TRACING = 'OpenTelemetry SDK Context Key SUPPRESS_TRACING';

export interface ClientTelemetry {
  /** A recorder for one broadcast, or undefined when nothing would be recorded (no SDK registered). */
  begin(): BroadcastRecorder | undefined;
}

/** The client's telemetry, or undefined when `@opentelemetry/api` is not installed. */
export function clientTelemetry(sdkAppId: number): ClientTelemetry | undefined {
  const api = openTelemetry();
  if (!api) return undefined;
  const scope = new Scope(api, '@tim-broadcast/core', instruments);
  return {
    begin() {
      const tracer = scope.tracer();
      const metrics = scope.instruments();
      return tracer || metrics ? new BroadcastRecorder(api, tracer, metrics, sdkAppId) : undefined;
    },
  };
}

/**
 * One broadcast's span (`tim_broadcast.broadcast`), its attempts' spans (`POST`, HTTP client conventions) and its
 * metrics. Holds nothing secret: URLs are recorded with `usersig` redacted, errors by name and redacted message.
 */
export class BroadcastRecorder {
  readonly #api: OpenTelemetryApi;
  readonly #tracer: Tracer | undefined;
  readonly #metrics: Instruments | undefined;
  readonly #base: Attributes;
  readonly #started = performance.now();
  #span: Span | undefined;
  #context: Context | undefined;
  #attempt: Span | undefined;
  /** performance.now() when the current attempt started; undefined between attempts. */
  #attemptStarted: number | undefined;
  #attempts = 0;
  #bytes: number | undefined;
  #host = '';
  #hostAttributes: Attributes = {};

  constructor(api: OpenTelemetryApi, tracer: Tracer | undefined, metrics: Instruments | undefined, sdkAppId: number) {
    this.#api = api;
    this.#tracer = tracer;
    this.#metrics = metrics;
    this.#base = { 'tim.sdkappid': sdkAppId };
    if (!tracer) return;
    const parent = api.context.active();
    const batch = batchOf(api, parent);
    const span = tracer.startSpan(
      'tim_broadcast.broadcast',
      { kind: api.SpanKind.INTERNAL, attributes: { ...this.#base, 'tim.batch_size': batch?.size ?? 1 }, links: batch?.links },
      parent,
    );
    if (!span.isRecording()) {
      span.end(); // sampled out: no children either
      return;
    }
    this.#span = span;
    this.#context = api.trace.setSpan(parent, span);
  }

  /** Wraps the broadcast's promise: ends the span and records the call's metrics when it settles. */
  wrap(sending: Promise<BroadcastResult>): Promise<BroadcastResult> {
    return sending.then(
      (result) => {
        this.#end(result, undefined);
        return result;
      },
      (error: unknown) => {
        this.#end(undefined, error instanceof Error ? error : new Error(String(error)));
        throw error;
      },
    );
  }

  /** The request is valid and serialized; `batchSize` is the call's own (it overrides what a batch sender's context said). */
  request(random: number, bytes: number, batchSize: number | undefined): void {
    this.#bytes = bytes;
    this.#span?.setAttributes({ 'tim.random': random, 'tim.body_bytes': bytes, ...(batchSize === undefined ? {} : { 'tim.batch_size': batchSize }) });
  }

  /** The limiter admitted attempt `attempt`, asked at `since` (performance.now()). */
  limiterAdmitted(attempt: number, since: number): void {
    this.#span?.addEvent('tim.limiter.acquired', { 'tim.attempt': attempt, 'tim.wait_ms': round(performance.now() - since) });
  }

  attemptStart(attempt: number, host: string, url: string): void {
    this.#attempts = attempt;
    this.#attemptStarted = performance.now();
    if (!this.#span) return;
    if (host !== this.#host) {
      this.#host = host;
      this.#hostAttributes = hostAttributes(host);
    }
    this.#attempt = this.#tracer!.startSpan(
      `POST ${BROADCAST_PATH}`,
      {
        kind: this.#api.SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'POST',
          'url.full': redactUrl(url),
          'url.template': BROADCAST_PATH,
          ...this.#hostAttributes,
          ...(attempt > 1 ? { 'http.request.resend_count': attempt - 1 } : {}),
          'tim.attempt': attempt,
        },
      },
      this.#context,
    );
  }

  /**
   * Runs the HTTP send with the attempt span active and instrumentation suppressed: an auto-instrumented HTTP
   * client (undici, http) would otherwise record a second span with the full URL, UserSig included.
   */
  send<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#attempt) return fn();
    const api = this.#api;
    const context = api.trace.setSpan(this.#context!, this.#attempt).setValue(api.createContextKey(SUPPRESS_TRACING), true);
    return api.context.with(context, fn);
  }

  /** The attempt ended: answered (`status`), and failed with `error` unless it was accepted. */
  attemptEnd(status: number | undefined, error: Error | undefined, msgSeq?: number): void {
    const started = this.#attemptStarted;
    if (started === undefined) return;
    this.#attemptStarted = undefined;
    const code = error instanceof ApiError ? error.code : status === 200 && !error ? 0 : undefined;
    const errorType = error && attemptErrorType(error, status);
    const span = this.#attempt;
    this.#attempt = undefined;
    if (span) {
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
      if (code !== undefined) span.setAttribute('tim.error_code', code);
      if (msgSeq !== undefined) span.setAttribute('tim.msg_seq', msgSeq);
      if (errorType) {
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: error.message });
      }
      span.end();
    }
    const metrics = this.#metrics;
    if (!metrics) return;
    const attributes: Attributes = { ...this.#base };
    if (status !== undefined) attributes['http.response.status_code'] = status;
    if (code !== undefined) attributes['tim.error_code'] = code;
    if (errorType) attributes['error.type'] = errorType;
    metrics.attemptDuration.record((performance.now() - started) / 1_000, attributes);
    if (error instanceof ApiError && error.category === 'throttled') metrics.throttled.add(1, { ...this.#base, 'tim.error_code': error.code });
  }

  retry(event: RetryEvent): void {
    this.#span?.addEvent('tim.retry', {
      'tim.attempt': event.attempt,
      'tim.retry.reason': event.reason,
      'tim.retry.delay_ms': round(event.delayMs),
      'error.type': event.error.name,
    });
  }

  #end(result: BroadcastResult | undefined, error: Error | undefined): void {
    const attempts = result?.attempts ?? this.#attempts;
    const code = result ? 0 : error instanceof ApiError ? error.code : undefined;
    const span = this.#span;
    if (span) {
      span.setAttribute('tim.attempts', attempts);
      if (code !== undefined) span.setAttribute('tim.error_code', code);
      if (result) span.setAttribute('tim.msg_seq', result.MsgSeq);
      if (error) {
        span.setAttribute('error.type', error.name);
        span.addEvent('exception', { 'exception.type': error.name, 'exception.message': error.message });
        span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: error.message });
      }
      span.end();
    }
    const metrics = this.#metrics;
    if (!metrics) return;
    const attributes: Attributes = { ...this.#base, 'tim.outcome': result ? 'accepted' : 'failed' };
    if (code !== undefined) attributes['tim.error_code'] = code;
    if (error) attributes['error.type'] = error.name;
    metrics.calls.add(1, attributes);
    metrics.callDuration.record((performance.now() - this.#started) / 1_000, attributes);
    if (attempts > 0) metrics.attempts.record(attempts, this.#base);
    if (this.#bytes !== undefined) metrics.bodySize.record(this.#bytes, this.#base);
  }
}

function hostAttributes(host: string): Attributes {
  try {
    const url = new URL(host);
    return { 'server.address': url.hostname.replace(/^\[|\]$/g, ''), 'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
  } catch {
    return {};
  }
}

/** HTTP conventions: the status code for an HTTP error, the error's code for a network failure; else its name. */
function attemptErrorType(error: Error, status: number | undefined): string {
  if (status !== undefined && status >= 400) return String(status);
  if (error instanceof TransportError && error.code) return error.code;
  return error.name;
}

function round(ms: number): number {
  return Math.round(ms * 1_000) / 1_000;
}
