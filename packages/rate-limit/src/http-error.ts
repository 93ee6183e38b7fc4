import {
  AbortError,
  ApiError,
  formatPath,
  QueueClosedError,
  QueueFullError,
  TimBroadcastError,
  TimeoutError,
  TransportError,
  ValidationError,
} from '@tim-broadcast/core';
import { LimiterClosedError, StoreError } from './errors';

/**
 * How an SDK error that `httpErrorResponse` does not know by class asks to be answered over HTTP: a
 * `TimBroadcastError` subclass sets an `http` property (an instance field or a prototype getter) of this shape.
 * Packages above this one (e.g. `@tim-broadcast/outbox`) use it, so the mapping never has to import them.
 */
export interface HttpErrorDescription {
  /** An HTTP status from 400 to 599. */
  status: number;
  /** A stable snake_case code for the body's `error` field, e.g. `outbox_unavailable`. */
  error: string;
  /** What the caller reads (default: the error's own message). Never a secret, URL or UserSig. */
  message?: string;
  /** Sent as `Retry-After` and `retryAfterSeconds` (a positive integer number of seconds). */
  retryAfterSeconds?: number;
  /** More fields for the body; only strings, numbers, booleans and null, and never `error`/`message`. */
  details?: Record<string, string | number | boolean | null>;
}

/** An HTTP answer for an SDK error: `{ error, message, ...details }` with its headers. */
export interface HttpErrorResponse {
  status: number;
  body: { error: string; message: string; [field: string]: unknown };
  headers: Record<string, string>;
}

export interface HttpErrorContext {
  /** The broadcaster that refused, for the `Retry-After` estimate of `QueueFullError` (1 s without it). */
  broadcaster?: { health(): { queued: number; inFlight: number; limiter?: { ratePerSecond: number } | undefined } };
}

/**
 * The HTTP answer for an error from the SDK, shared by `@tim-broadcast/express`'s router and
 * `@tim-broadcast/nestjs`'s `BroadcastExceptionFilter`; undefined when it is not one it knows (answer 500 then).
 * Bodies carry only what is safe to show a caller: codes, Tencent's ErrorInfo, field paths — never URLs or secrets.
 *
 * | status | error | for |
 * |---|---|---|
 * | 400 | invalid_request | ValidationError (`issues: [{ path: 'MsgBody[0].MsgContent.Text', message }]`) |
 * | 429 | queue_full | QueueFullError (`Retry-After`) |
 * | 502 | upstream_error | ApiError (`code`, `info`, `category`) |
 * | 502 | upstream_unreachable | TransportError (`code`) |
 * | 503 | shutting_down | QueueClosedError, LimiterClosedError |
 * | 503 | rate_limit_unavailable | StoreError (`Retry-After`) |
 * | 504 | upstream_timeout | TimeoutError |
 * | any | (its own) | a TimBroadcastError with an `http` property ({@link HttpErrorDescription}) |
 *
 * A well-formed `http` description comes first, so a subclass of a class above (e.g. the outbox's wait timeout, a
 * `TimeoutError`) answers as it describes itself.
 */
export function httpErrorResponse(err: unknown, context: HttpErrorContext = {}): HttpErrorResponse | undefined {
  if (!(err instanceof TimBroadcastError)) return undefined;
  const own = described(err);
  if (own) return own;
  if (err instanceof ValidationError) {
    return answer(400, 'invalid_request', 'invalid broadcast request', {
      issues: err.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    });
  }
  if (err instanceof QueueFullError) {
    return withRetryAfter(answer(429, 'queue_full', 'too many broadcasts are waiting; retry later'), queueRetryAfter(context));
  }
  // the queue's message says whether the broadcast was not sent or its outcome is unknown (aborted in flight)
  if (err instanceof QueueClosedError) return answer(503, 'shutting_down', err.message);
  if (err instanceof LimiterClosedError) return answer(503, 'shutting_down', 'shutting down; the broadcast was not sent');
  if (err instanceof StoreError) {
    return withRetryAfter(answer(503, 'rate_limit_unavailable', `the rate-limit store (${err.store}) is unavailable; retry later`), 1);
  }
  if (err instanceof ApiError) return answer(502, 'upstream_error', err.message, { code: err.code, info: err.info, category: err.category });
  // TimeoutError and AbortError extend TransportError: check them first
  if (err instanceof TimeoutError) {
    return answer(504, 'upstream_timeout', 'Tencent Cloud Chat did not answer in time; the broadcast may or may not have been delivered');
  }
  if (err instanceof AbortError) return undefined;
  if (err instanceof TransportError) return answer(502, 'upstream_unreachable', 'could not reach Tencent Cloud Chat', err.code ? { code: err.code } : {});
  return undefined;
}

/** The answer an error describes through its `http` property, when that description is well formed. */
function described(err: TimBroadcastError): HttpErrorResponse | undefined {
  const http = (err as { http?: unknown }).http as Partial<HttpErrorDescription> | undefined;
  if (!http || typeof http !== 'object') return undefined;
  const { status, error, message, retryAfterSeconds, details } = http;
  if (!Number.isInteger(status) || status! < 400 || status! > 599) return undefined;
  if (typeof error !== 'string' || !/^[a-z][a-z0-9_]*$/.test(error)) return undefined;
  const extra: Record<string, unknown> = {};
  if (details && typeof details === 'object') {
    for (const [key, value] of Object.entries(details)) {
      const plain = value === null || ['string', 'number', 'boolean'].includes(typeof value);
      if (plain && key !== 'error' && key !== 'message' && key !== 'retryAfterSeconds') extra[key] = value;
    }
  }
  const response = answer(status!, error, typeof message === 'string' ? message : err.message, extra);
  return Number.isInteger(retryAfterSeconds) && retryAfterSeconds! > 0 ? withRetryAfter(response, retryAfterSeconds!) : response;
}

function answer(status: number, error: string, message: string, details: Record<string, unknown> = {}): HttpErrorResponse {
  return { status, body: { error, message, ...details }, headers: {} };
}

function withRetryAfter(response: HttpErrorResponse, seconds: number): HttpErrorResponse {
  response.body.retryAfterSeconds = seconds;
  response.headers['retry-after'] = String(seconds);
  return response;
}

/** When the queue will have room: what is waiting or in flight, at the configured rate (at least 1 s). */
function queueRetryAfter({ broadcaster }: HttpErrorContext): number {
  if (!broadcaster) return 1;
  const health = broadcaster.health();
  const rate = health.limiter?.ratePerSecond;
  const pending = health.queued + health.inFlight;
  return rate && rate > 0 ? Math.max(1, Math.ceil(pending / rate)) : 1;
}
