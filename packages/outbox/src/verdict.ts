import { ApiError, TransportError, ValidationError } from '@tim-broadcast/core';

/**
 * What a failed call says about its batch:
 * - `poison`: the content itself was refused (an ApiError in the 'invalid' category, which the API answers the same
 *   way every time, or a ValidationError, which the client throws before sending). Nothing was delivered. A batch of
 *   one ends `failed`; a merged batch cannot tell which member was refused, so its members are retried alone.
 *   `firstOnly` is set for codes outside the catalogue: only a refusal of the batch's only attempt ever proves
 *   that nothing was delivered.
 * - `hold`: the API said no for a reason that is not the content's (auth, config, throttled, retryable, HTTP 4xx),
 *   on the batch's only attempt ever: nothing was delivered, so the members go back to waiting and may be packed
 *   again, after a backoff.
 * - `maybe`: a call may have reached the API (no answer, a timeout, a 5xx, an abort, or a refusal after earlier
 *   attempts). The batch is re-sent as recorded, same entries and `Random`, so the API's dedup makes a re-send of
 *   a delivered batch a no-op.
 */
export type Verdict = { kind: 'poison'; firstOnly: boolean } | { kind: 'hold' } | { kind: 'maybe' };

export function verdictOf(error: unknown): Verdict {
  if (error instanceof ValidationError) return { kind: 'poison', firstOnly: false };
  if (error instanceof ApiError) {
    if (error.category === 'invalid') return { kind: 'poison', firstOnly: false };
    if (error.attempts !== 1) return { kind: 'maybe' };
    return error.category === 'unknown' ? { kind: 'poison', firstOnly: true } : { kind: 'hold' };
  }
  if (error instanceof TransportError && error.status !== undefined && error.status < 500 && error.attempts === 1 && error.name === 'TransportError') {
    return { kind: 'hold' };
  }
  return { kind: 'maybe' };
}

/** A failure as a status stores it: name, message, code; never a cause chain (which could hold anything). */
export function describeError(error: unknown): { name: string; message: string; code?: number } {
  if (error instanceof ApiError) return { name: error.name, message: error.message, code: error.code };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}
