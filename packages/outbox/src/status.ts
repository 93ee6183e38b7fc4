/**
 * - `scheduled`: waiting for its `sendAt`.
 * - `queued`: due, waiting for a deliverer (or held by one after its batch was refused or throttled).
 * - `sending`: in a recorded batch: a call is in flight, or the batch waits to be re-sent with the same `Random`.
 * - `delivered`: the API accepted it (`MsgSeq`).
 * - `failed`: the API refused it for good (its batch, sent alone), or it no longer parses. Never sent again.
 * - `expired`: its deadline passed before it was sent. Never sent.
 * - `uncertain`: a call carrying it may have arrived, and it could no longer be re-sent safely. Never sent again.
 */
export type OutboxState = 'queued' | 'scheduled' | 'sending' | 'delivered' | 'failed' | 'expired' | 'uncertain';

export const FINAL_STATES: ReadonlySet<OutboxState> = new Set(['delivered', 'failed', 'expired', 'uncertain']);

export interface OutboxStatus {
  id: string;
  state: OutboxState;
  /** When it was enqueued (ms since the epoch, by the outbox's clock). */
  enqueuedAt: number;
  /** Not sent at or after this time: `max(enqueuedAt, sendAt) + (ttlMs ?? maxAgeMs)`. */
  expiresAt: number;
  /** Its `sendAt`, when it was scheduled. */
  sendAt?: number;
  /** Calls made for its batch so far (each may have made several HTTP attempts). */
  attempts?: number;
  /** Broadcasts that share its call. */
  batchSize?: number;
  /** The body `Random` of its call: the dedup key. */
  Random?: number;
  /** Set when delivered. */
  MsgSeq?: number;
  /** When it reached its final state. */
  finishedAt?: number;
  /** Why it failed (`failed` only). Never holds secrets. */
  error?: { name: string; message: string; code?: number };
  /** Why it is uncertain: `'dedup-window'`, `'expired'`, `'lost-batch'` or `'lost-entry'`. */
  reason?: string;
}

/** The record as the Lua script stores it (JSON in a hash field). */
export interface StoredRecord {
  s: OutboxState;
  enq: number;
  exp: number;
  at?: number;
  att?: number;
  bs?: number;
  rnd?: number;
  seq?: number;
  fin?: number;
  err?: { name: string; message: string; code?: number };
  rsn?: string;
}

export function toStatus(id: string, rec: StoredRecord): OutboxStatus {
  const status: OutboxStatus = { id, state: rec.s, enqueuedAt: rec.enq, expiresAt: rec.exp };
  if (rec.at !== undefined) status.sendAt = rec.at;
  if (rec.att !== undefined) status.attempts = rec.att;
  if (rec.bs !== undefined) status.batchSize = rec.bs;
  if (rec.rnd !== undefined) status.Random = rec.rnd;
  if (rec.seq !== undefined) status.MsgSeq = rec.seq;
  if (rec.fin !== undefined) status.finishedAt = rec.fin;
  if (rec.err !== undefined) status.error = rec.err;
  if (rec.rsn !== undefined) status.reason = rec.rsn;
  return status;
}
