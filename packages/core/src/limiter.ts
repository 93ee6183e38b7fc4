/**
 * What a limiter may hand back from `acquire()`: the client calls `release()` once the attempt it was acquired
 * for has ended — answered, failed or aborted, and even when nothing was sent. A limiter uses it to know that the
 * call can no longer reach the server after that moment (see `@tim-broadcast/rate-limit`).
 */
export interface LimiterPermit {
  /** The attempt has ended. Called exactly once by the client; a limiter should make further calls no-ops. */
  release(): void;
}

/**
 * What the client calls before every HTTP attempt. `@tim-broadcast/rate-limit` implements it;
 * any object of this shape works.
 */
export interface Limiter {
  /**
   * Resolves when this caller may send one request; rejects if `signal` fires first. May resolve with a
   * `LimiterPermit`, which the client releases when the attempt ends; a limiter that resolves with nothing
   * (`void`) is never told.
   *
   * When `signal` fires, reject with the signal's reason or an `AbortError`; the client then reports the abort or
   * its deadline. Any other `TimBroadcastError` (a rate-limit store failure, say) reaches the caller as it is.
   */
  acquire(options?: { signal?: AbortSignal }): Promise<void | LimiterPermit>;
  /** The server said "too fast" (10023 and friends): push the shared schedule back by `ms`. */
  penalize?(ms: number): void | Promise<void>;
}
