import { TimBroadcastError } from '@tim-broadcast/core';
/** The rate-limit store (memory or Redis) failed or did not answer. `store` names it; `cause` holds the original error. */
export class StoreError extends TimBroadcastError {
  override name = 'StoreError';
  readonly store: string;

  constructor(store: string, message: string, options: { cause?: unknown } = {}) {
    super(`rate-limit store "${store}": ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.store = store;
  }
}

/** The rate limiter was closed while this caller waited for a slot (or after). Nothing was sent. */
export class LimiterClosedError extends TimBroadcastError {
  override name = 'LimiterClosedError';

  constructor(message = 'rate limiter is closed; nothing was sent') {
    super(message);
  }
}
