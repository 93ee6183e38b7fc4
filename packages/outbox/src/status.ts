import type { OutboxState, OutboxStatus } from '@tim-broadcast/rate-limit';

export const FINAL_STATES: ReadonlySet<OutboxState> = new Set(['delivered', 'failed', 'expired', 'uncertain']);

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
