// The shapes of @tim-broadcast/outbox that this package hands out, written out here: the outbox is an optional peer,
// so these declarations must not import it (an app without it would fail to type-check this package's .d.ts).
// The same file in @tim-broadcast/nestjs and @tim-broadcast/express.
import type { BroadcastRequestInput, Logger } from '@tim-broadcast/core';
import type { IoRedisLike, NodeRedisLike } from '@tim-broadcast/rate-limit';

/** `queued`, `scheduled`, `sending`, then one of the final states `delivered`, `failed`, `expired`, `uncertain`. */
export type OutboxState = 'queued' | 'scheduled' | 'sending' | 'delivered' | 'failed' | 'expired' | 'uncertain';

/** A broadcast's status (plain JSON; times in ms since the epoch). See the outbox README's state machine. */
export interface OutboxStatus {
  id: string;
  state: OutboxState;
  enqueuedAt: number;
  expiresAt: number;
  sendAt?: number;
  attempts?: number;
  batchSize?: number;
  Random?: number;
  MsgSeq?: number;
  finishedAt?: number;
  error?: { name: string; message: string; code?: number };
  reason?: string;
}

export interface EnqueueOptions {
  /** Not sent once this many ms have passed since it became due (default: the outbox's `maxAgeMs`). */
  ttlMs?: number;
  /** Deliver not before this time (a Date or ms since the epoch); `scheduled` until then. */
  sendAt?: Date | number;
  /** The same key again returns the first broadcast's id (`duplicate: true`) instead of adding another. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface EnqueueResult {
  id: string;
  /** true when `idempotencyKey` matched an earlier broadcast: `id` is that one's, nothing was added. */
  duplicate: boolean;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Give up after this many ms with `OutboxWaitTimeoutError` (default: the broadcast's own bound). */
  timeoutMs?: number;
}

export interface OutboxHealth {
  /** 'down' when the outbox is closed, or this process's deliverer keeps failing (Redis or the limiter). */
  status: 'up' | 'down';
  /** This process delivers. */
  delivering: boolean;
  queued: number;
  inProgress: number;
  scheduled: number;
  /** queued + inProgress + scheduled. */
  backlog: number;
  /** How long the oldest due, unfinished broadcast has been due (ms). */
  oldestAgeMs: number | undefined;
  /** Deliverers of every process that renewed their lease recently. */
  deliverers: number;
  lastError?: { name: string; message: string; at: string };
}

/** The durable outbox of one app (`createOutbox` of @tim-broadcast/outbox). */
export interface Outbox {
  readonly name: string;
  enqueue(request: BroadcastRequestInput, options?: EnqueueOptions): Promise<EnqueueResult>;
  status(id: string, options?: { signal?: AbortSignal }): Promise<OutboxStatus | undefined>;
  wait(id: string, options?: WaitOptions): Promise<OutboxStatus>;
  start(): Promise<void>;
  health(): Promise<OutboxHealth>;
  readonly delivering: boolean;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** What the outbox's hooks receive; see the outbox README. */
export interface OutboxHooks {
  onEnqueued?(event: { id: string; state: 'queued' | 'scheduled'; enqueuedAt: number; expiresAt: number; sendAt?: number }): void;
  onSending?(event: { batchId: string; ids: string[]; Random: number; batchSize: number; attempt: number }): void;
  onDelivered?(event: { batchId: string; ids: string[]; MsgSeq: number; Random: number; batchSize: number; attempt: number }): void;
  onFailed?(event: { id: string; error: Error }): void;
  onExpired?(event: { ids: string[] }): void;
  onUncertain?(event: { batchId: string; ids: string[]; reason: string }): void;
  onReclaimed?(event: { ids: string[]; batches: number; from: string[] }): void;
}

/**
 * The `outbox` option: broadcasts are accepted into a Redis outbox (`enqueue()`) and delivered by deliverers, which
 * survive crashes and restarts. Needs the optional package `@tim-broadcast/outbox`.
 */
export interface BroadcastOutboxOptions {
  /**
   * A connected ioredis or node-redis client (yours: never closed), or a `redis://` URL, for which an ioredis client
   * is created and quit at shutdown (needs `ioredis`). Unless `rateLimit.redis` is given, the limiter shares it too.
   */
  redis: IoRedisLike | NodeRedisLike | string;
  /** This process delivers (default true). `false`: it only enqueues (a web tier); other processes deliver. */
  deliver?: boolean;
  /** The outbox's name, the same in every process of the app (default: the SDKAppID). */
  name?: string;
  prefix?: string;
  /** Pack waiting broadcasts into one call (default false). */
  coalesce?: boolean;
  maxBytes?: number;
  /** Deadline of a broadcast once due, when `enqueue()` gives no `ttlMs` (default 1 hour). */
  maxAgeMs?: number;
  /** How long a finished broadcast's status stays readable (default 24 hours). */
  retentionMs?: number;
  /** Takeover time of a dead deliverer's work (default 30 s). */
  leaseMs?: number;
  /** Bound on each Redis call (default 5 s). */
  redisTimeoutMs?: number;
  clock?: { now(): number };
  hooks?: OutboxHooks;
  /** Default: the app's logger. */
  logger?: Logger;
}
