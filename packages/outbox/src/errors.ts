import { TimBroadcastError, TimeoutError } from '@tim-broadcast/core';
import type { HttpErrorDescription, OutboxStatus } from '@tim-broadcast/rate-limit';

// Each error's `http` getter is how `httpErrorResponse` (the Express router, the Nest filter) answers it over HTTP.

/** The broadcast ended `failed`: the API refused it for good (its `code`, e.g. 10004 or 80001), or it no longer parses. */
export class OutboxFailedError extends TimBroadcastError {
  override name = 'OutboxFailedError';
  readonly id: string;
  /** The API's `ErrorCode`, when the API refused it. */
  readonly code: number | undefined;
  readonly status: OutboxStatus;

  constructor(status: OutboxStatus) {
    const error = status.error;
    super(`broadcast ${status.id} failed: ${error ? `${error.name}: ${error.message}` : 'refused'}`);
    this.id = status.id;
    this.code = error?.code;
    this.status = status;
  }

  /** 502 `delivery_failed`, with the broadcast's `id` and the API's `code` when it refused it. */
  get http(): HttpErrorDescription {
    return { status: 502, error: 'delivery_failed', details: { id: this.id, ...(this.code === undefined ? {} : { code: this.code }) } };
  }
}

/** The broadcast ended `expired`: its `ttlMs` (or the outbox's `maxAgeMs`) passed before it was sent. It was never sent. */
export class OutboxExpiredError extends TimBroadcastError {
  override name = 'OutboxExpiredError';
  readonly id: string;
  readonly status: OutboxStatus;

  constructor(status: OutboxStatus) {
    super(`broadcast ${status.id} expired at ${new Date(status.expiresAt).toISOString()} before it was sent; it was not sent`);
    this.id = status.id;
    this.status = status;
  }

  /** 504 `delivery_expired`: never sent. */
  get http(): HttpErrorDescription {
    return { status: 504, error: 'delivery_expired', details: { id: this.id } };
  }
}

/**
 * The broadcast ended `uncertain`: a call carrying it may have reached the API, and it could not be re-sent safely
 * (the 5-minute dedup window, minus a margin, had passed, or it expired). It is never sent again and never reported
 * delivered; whether receivers got it is unknown.
 */
export class OutboxUncertainError extends TimBroadcastError {
  override name = 'OutboxUncertainError';
  readonly id: string;
  readonly reason: string | undefined;
  readonly status: OutboxStatus;

  constructor(status: OutboxStatus) {
    super(`broadcast ${status.id} is uncertain (${status.reason ?? 'unknown'}): it may or may not have been delivered, and it will not be sent again`);
    this.id = status.id;
    this.reason = status.reason;
    this.status = status;
  }

  /** 504 `delivery_uncertain`, with the `reason`. */
  get http(): HttpErrorDescription {
    return { status: 504, error: 'delivery_uncertain', details: { id: this.id, ...(this.reason === undefined ? {} : { reason: this.reason }) } };
  }
}

/** No broadcast with this id: never enqueued here, or finished longer ago than `retentionMs`. */
export class OutboxNotFoundError extends TimBroadcastError {
  override name = 'OutboxNotFoundError';
  readonly id: string;

  constructor(id: string) {
    super(`no broadcast ${JSON.stringify(id)} in this outbox (unknown id, or finished longer ago than retentionMs)`);
    this.id = id;
  }

  /** 404 `broadcast_not_found`. */
  get http(): HttpErrorDescription {
    return { status: 404, error: 'broadcast_not_found' };
  }
}

/** The outbox was closed (enqueue after close, or a wait() pending at close). What was queued stays queued. */
export class OutboxClosedError extends TimBroadcastError {
  override name = 'OutboxClosedError';

  constructor(message = 'outbox is closed; what was queued stays queued in Redis') {
    super(message);
  }

  /** 503 `shutting_down`, as the in-memory queue's `QueueClosedError`. */
  get http(): HttpErrorDescription {
    return { status: 503, error: 'shutting_down' };
  }
}

/** Redis failed or did not answer within `redisTimeoutMs`. `cause` holds the client's error, when there was one. */
export class OutboxRedisError extends TimBroadcastError {
  override name = 'OutboxRedisError';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(`outbox Redis: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
  }

  /** 503 `outbox_unavailable` with `Retry-After: 1`; the message never carries Redis's own (hosts, ports). */
  get http(): HttpErrorDescription {
    return {
      status: 503,
      error: 'outbox_unavailable',
      message: 'the outbox is unavailable (Redis did not answer); retry later. A broadcast being added may have been added: retry it with the same Idempotency-Key, so it is not added twice',
      retryAfterSeconds: 1,
    };
  }
}

/** `wait()` reached its `timeoutMs` (or its default bound) while the broadcast was still on its way. */
export class OutboxWaitTimeoutError extends TimeoutError {
  override name = 'OutboxWaitTimeoutError';
  readonly id: string;

  constructor(id: string, timeoutMs: number, state: string | undefined) {
    super(timeoutMs);
    this.message = `waited ${timeoutMs} ms for broadcast ${id}; it is still ${state ?? 'unknown'}`;
    this.id = id;
  }

  /** 504 `wait_timeout`: the broadcast is still on its way (not `upstream_timeout`, which a TimeoutError would get). */
  get http(): HttpErrorDescription {
    return { status: 504, error: 'wait_timeout', details: { id: this.id } };
  }
}
