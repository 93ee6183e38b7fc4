/** What the limiter asks of a store for one call. */
export interface ReserveRequest {
  /** GCRA spacing: after an admission, the next one comes no sooner than this (burst 0). */
  intervalMs: number;
  /** Places in the log (calls admitted and not yet freed) allowed at once. */
  limit: number;
  /** Enter the admitted call in the log under this id, until `complete(id)` (or `holdMs`, if that never comes). */
  id?: string;
  /** How long an entry stays when its completion is never reported (a crashed process); see `hold`. */
  holdMs: number;
}

/**
 * Told when a place of the watched key is freed or will be: `inMs` from now (0: now). Also called with 0 when
 * notifications may have been missed (a reconnect), meaning "look again".
 */
export type FreedListener = (inMs: number) => void;

/**
 * A shared schedule, one atomic step at a time, on the store's own clock:
 * - a TAT (theoretical arrival time, GCRA with burst 0): a call is admitted only when now ≥ TAT, and then
 *   TAT = now + intervalMs. Refused tries change nothing, so admitted calls are never closer than the
 *   interval however late a caller comes back, and an idle key admits at once;
 * - a log of tracked calls: each holds a place from its admission until `windowMs` after its completion is
 *   reported. A call is admitted only when fewer than `limit` places are held. Since a call reaches the
 *   server between its admission and its completion, this bounds what the server sees, whatever the latency
 *   in between.
 */
export interface RateLimitStore {
  /** `'memory'`, `'redis'`, ...: named in errors and health reports. */
  readonly name: string;
  /** Admits one call now (`waitMs` 0), or says how long until a new try may succeed. */
  reserve(key: string, request: ReserveRequest): Promise<{ waitMs: number }>;
  /**
   * The tracked call `id` has completed: its place is held `windowMs` more, then freed, and watchers are told.
   * Unknown ids are ignored.
   */
  complete(key: string, id: string, windowMs: number): Promise<void>;
  /** The tracked call `id` is still in flight: keep its place at least `holdMs` from now. Unknown ids are ignored. */
  hold?(key: string, id: string, holdMs: number): Promise<void>;
  /** Pushes the schedule back: TAT = max(TAT, now) + ms. */
  penalize(key: string, ms: number): Promise<void>;
  /**
   * Pushes news of freed places of `key` to `listener` (from any process sharing the store), so waiters can sleep
   * until then instead of polling. Returns a function that stops it. Without it, the limiter looks again every
   * 100 ms while a place is held.
   */
  watch?(key: string, listener: FreedListener): () => void;
  /** Releases what the store itself created; never closes a client that was passed in. */
  close?(): Promise<void>;
}
