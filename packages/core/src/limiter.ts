/**
 * What the client calls before every HTTP attempt. `@tim-broadcast/rate-limit` implements it;
 * any object of this shape works.
 */
export interface Limiter {
  /** Resolves when this caller may send one request; rejects if `signal` fires first. */
  acquire(options?: { signal?: AbortSignal }): Promise<void>;
  /** The server said "too fast" (10023 and friends): push the shared schedule back by `ms`. */
  penalize?(ms: number): void | Promise<void>;
}
