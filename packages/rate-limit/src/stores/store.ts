/** What the limiter asks of a store for one call. */
export interface ReserveRequest {
  /** GCRA spacing: after an admission, the next one comes no sooner than this (burst 0). */
  intervalMs: number;
  /** Calls allowed in the log at once (the server's calls per rolling second). */
  limit: number;
  /** Enter the admitted call in the log under this id, until `complete(id)` (or `holdMs`, if that never comes). */
  id?: string;
  /** How long an entry stays when its completion is never reported (a crashed process). */
  holdMs: number;
}

/**
 * A shared schedule, one atomic step at a time, on the store's own clock:
 * - a TAT (theoretical arrival time, GCRA with burst 0): a call is admitted only when now ≥ TAT, and then
 *   TAT = now + intervalMs. Refused tries change nothing, so admitted calls are never closer than the
 *   interval however late a caller comes back, and an idle key admits at once;
 * - a log of tracked calls: each holds a place from its admission until 1 s after its completion is
 *   reported. A call is admitted only when fewer than `limit` places are held. Since a call reaches the
 *   server between its admission and its completion, this bounds calls per rolling second *at the server*,
 *   whatever the latency in between.
 */
export interface RateLimitStore {
  /** `'memory'`, `'redis'`, ...: named in errors and health reports. */
  readonly name: string;
  /** Admits one call now (`waitMs` 0), or says how long until a new try may succeed. */
  reserve(key: string, request: ReserveRequest): Promise<{ waitMs: number }>;
  /** The tracked call `id` has completed: its place is held `windowMs` more, then freed. Unknown ids are ignored. */
  complete(key: string, id: string, windowMs: number): Promise<void>;
  /** Pushes the schedule back: TAT = max(TAT, now) + ms. */
  penalize(key: string, ms: number): Promise<void>;
  /** Releases what the store itself created; never closes a client that was passed in. */
  close?(): Promise<void>;
}
