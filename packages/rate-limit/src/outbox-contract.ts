// The public shapes of @tim-broadcast/outbox, declared once here: the outbox package re-exports them, and the NestJS
// and Express packages hand them out without importing the outbox (an optional peer: an app without it must still
// type-check their .d.ts). Only types: nothing here runs.
import type { BroadcastRequestInput } from '@tim-broadcast/core';

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

/** A broadcast's status (plain JSON; times in ms since the epoch). See the outbox README's state machine. */
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

export interface EnqueueOptions {
  /** Not sent once this many ms have passed since it became due (default: the outbox's `maxAgeMs`). */
  ttlMs?: number;
  /** Deliver not before this time (a Date or ms since the epoch); `scheduled` until then. */
  sendAt?: Date | number;
  /**
   * Enqueuing the same key again returns the first broadcast's id instead of adding another (while that one's
   * record is kept); the body `Random` is derived from the key, as the client does, so it is never merged.
   */
  idempotencyKey?: string;
  /** Stops waiting for Redis. The broadcast may still have been added: retry with the same `idempotencyKey`. */
  signal?: AbortSignal;
}

export interface EnqueueResult {
  id: string;
  /** true when `idempotencyKey` matched an earlier broadcast: `id` is that one's, nothing was added. */
  duplicate: boolean;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /**
   * Give up after this many ms with an `OutboxWaitTimeoutError` (the broadcast carries on). Default: the latest
   * time it can still be on its way: its expiry, plus the dedup window and the lease.
   */
  timeoutMs?: number;
}

export interface OutboxHealth {
  /** 'down' when the outbox is closed, or this process's deliverer keeps failing (Redis or the limiter). */
  status: 'up' | 'down';
  /** This process delivers (`start()` was called, `close()` was not). */
  delivering: boolean;
  /** Due broadcasts no deliverer has taken yet. */
  queued: number;
  /** Broadcasts deliverers hold: in a call, waiting to be re-sent, or held back after a refusal. */
  inProgress: number;
  /** Broadcasts waiting for their `sendAt`. */
  scheduled: number;
  /** queued + inProgress + scheduled. */
  backlog: number;
  /** How long the oldest due, unfinished broadcast has been due (ms), or undefined when there is none. */
  oldestAgeMs: number | undefined;
  /** Deliverers that renewed their lease recently, in every process. */
  deliverers: number;
  /** The last failure this process's deliverer saw (Redis, or a call); never holds secrets. */
  lastError?: { name: string; message: string; at: string };
}

/** The durable outbox of one app (`createOutbox` of @tim-broadcast/outbox). */
export interface Outbox {
  readonly name: string;
  /** Validates (same errors as the client) and adds the broadcast to Redis; resolves once Redis holds it. */
  enqueue(request: BroadcastRequestInput, options?: EnqueueOptions): Promise<EnqueueResult>;
  /** The broadcast's status, or undefined for an unknown id (or one finished longer ago than `retentionMs`). */
  status(id: string, options?: { signal?: AbortSignal }): Promise<OutboxStatus | undefined>;
  /**
   * Resolves with the status once it is delivered; rejects with OutboxFailedError, OutboxExpiredError or
   * OutboxUncertainError when it ends otherwise, OutboxNotFoundError for an unknown id, OutboxWaitTimeoutError
   * at the bound, AbortError on the signal. Waiting never changes the broadcast.
   */
  wait(id: string, options?: WaitOptions): Promise<OutboxStatus>;
  /** Makes this process a deliverer (idempotent). A process that never calls it only enqueues. */
  start(): Promise<void>;
  /** Counts from Redis for health checks and dashboards. Rejects with OutboxRedisError when Redis does not answer. */
  health(): Promise<OutboxHealth>;
  /** True between `start()` and `close()`. */
  readonly delivering: boolean;
  /**
   * Stops delivering: no new call starts; a call in flight gets `timeoutMs` (default 10,000) to finish, then is
   * aborted and its batch, still recorded, is handed over to other deliverers (re-sent with the same Random).
   * Never deletes anything queued. Rejects pending `wait()`s with OutboxClosedError. Never closes your Redis client
   * or broadcast client. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Hooks report what *this process* did; a broadcast enqueued here may be delivered by another process. */
export interface OutboxHooks {
  /** Redis holds it. */
  onEnqueued?(event: { id: string; state: 'queued' | 'scheduled'; enqueuedAt: number; expiresAt: number; sendAt?: number }): void;
  /** A batch is about to be sent (attempt 1) or re-sent with the same Random (attempt > 1). */
  onSending?(event: { batchId: string; ids: string[]; Random: number; batchSize: number; attempt: number }): void;
  onDelivered?(event: { batchId: string; ids: string[]; MsgSeq: number; Random: number; batchSize: number; attempt: number }): void;
  /** The API refused it for good, sent alone (or it no longer parses). */
  onFailed?(event: { id: string; error: Error }): void;
  /** Its deadline passed before it was sent. */
  onExpired?(event: { ids: string[] }): void;
  /** A call carrying them may have arrived and they can no longer be re-sent safely. */
  onUncertain?(event: { batchId: string; ids: string[]; reason: string }): void;
  /** This deliverer took over the work of deliverers that stopped answering (`from`: their names). */
  onReclaimed?(event: { ids: string[]; batches: number; from: string[] }): void;
}
