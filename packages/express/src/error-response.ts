import { AbortError, ApiError, formatPath, QueueClosedError, QueueFullError, TimeoutError, TransportError, ValidationError } from '@tim-broadcast/core';
import { StoreError, type Broadcaster } from '@tim-broadcast/rate-limit';
import { HttpProblem } from './problem';

export interface ErrorResponse {
  status: number;
  body: { error: string; message: string; [field: string]: unknown };
  headers?: Record<string, string>;
}

/**
 * The HTTP answer for an error, or undefined when it is not one the router knows (then it answers 500).
 * Bodies carry only what is safe to show a caller: codes, Tencent's ErrorInfo, field paths — never URLs or secrets.
 */
export function errorResponse(err: unknown, broadcaster: Broadcaster | undefined): ErrorResponse | undefined {
  if (err instanceof HttpProblem) return { status: err.status, body: { error: err.error, message: err.message }, headers: err.headers };
  if (err instanceof ValidationError) {
    return {
      status: 400,
      body: {
        error: 'invalid_request',
        message: 'invalid broadcast request',
        issues: err.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
      },
    };
  }
  if (err instanceof QueueFullError) {
    const seconds = retryAfterSeconds(broadcaster);
    return {
      status: 429,
      body: { error: 'queue_full', message: 'too many broadcasts are waiting; retry later', retryAfterSeconds: seconds },
      headers: { 'retry-after': String(seconds) },
    };
  }
  if (err instanceof QueueClosedError) {
    // the queue's message says whether the broadcast was not sent or its outcome is unknown (aborted in flight)
    return { status: 503, body: { error: 'shutting_down', message: err.message } };
  }
  if (err instanceof ApiError) {
    return {
      status: 502,
      body: { error: 'upstream_error', message: err.message, code: err.code, info: err.info, category: err.category },
    };
  }
  // TimeoutError and AbortError extend TransportError: check them first
  if (err instanceof TimeoutError) {
    return {
      status: 504,
      body: { error: 'upstream_timeout', message: 'Tencent Cloud Chat did not answer in time; the broadcast may or may not have been delivered' },
    };
  }
  if (err instanceof AbortError) return undefined;
  if (err instanceof TransportError) {
    return {
      status: 502,
      body: { error: 'upstream_unreachable', message: 'could not reach Tencent Cloud Chat', ...(err.code ? { code: err.code } : {}) },
    };
  }
  if (err instanceof StoreError) {
    return { status: 503, body: { error: 'rate_limit_unavailable', message: `the rate-limit store (${err.store}) is unavailable; retry later` } };
  }
  return undefined;
}

/** An estimate of when the queue will have room: what is waiting or in flight, at the configured rate (at least 1 s). */
export function retryAfterSeconds(broadcaster: Broadcaster | undefined): number {
  if (!broadcaster) return 1;
  const health = broadcaster.health();
  const rate = health.limiter?.ratePerSecond;
  const pending = health.queued + health.inFlight;
  return rate && rate > 0 ? Math.max(1, Math.ceil(pending / rate)) : 1;
}
