import {
  createBroadcastClient,
  numberIssue,
  objectIssue,
  throwIfIssues,
  unknownOptionIssues,
  ValidationError,
  type BroadcastClient,
  type BroadcastClientOptions,
  type BroadcastRequestInput,
  type ValidationIssue,
} from '@tim-broadcast/core';
import { createRateLimiter, type RateLimiter, type RateModel } from './limiter';
import { LIMITER_KEYS, rateLimiterIssues } from './limiter-options';
import { createBroadcastQueue, type BroadcastQueue, type QueueResult, type QueueSendOptions } from './queue';
import { queueTuningIssues } from './queue-options';
import { MemoryStore } from './stores/memory';
import { RedisStore, type IoRedisLike, type NodeRedisLike } from './stores/redis';
import { redisUrlStore } from './stores/redis-url';
import type { RateLimitStore } from './stores/store';

export interface BroadcasterRateLimitOptions {
  /** Default 1. */
  ratePerSecond?: number;
  /** Default `'spacing'`; see `RateModel`. */
  model?: RateModel;
  /** Default `tim-broadcast:${sdkAppId}`. */
  key?: string;
  /** Default 'wait-and-retry'. */
  onStoreError?: 'fail' | 'wait-and-retry';
  /** Longest wait for one slot when a send has no deadline (default 60,000 ms). */
  maxWaitMs?: number;
  /**
   * Share the limit through Redis: a client you own (ioredis or node-redis, single server, Cluster or Sentinel;
   * never closed here), or a URL, for which an ioredis client is created (ioredis is an optional peer dependency)
   * and quit by `close()`.
   */
  redis?: IoRedisLike | NodeRedisLike | string;
  /**
   * A store you own instead of `redis` — e.g. one `RedisStore` shared by many broadcasters, so that they share one
   * pub/sub connection (`createBroadcastRegistry` does this). Never closed here. Give each broadcaster its own `key`.
   */
  store?: RateLimitStore;
}

/** `Omit` applied to each member of a union, so "region or baseUrl" stays a choice of one. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface BroadcasterExtraOptions {
  /** Default `{ ratePerSecond: 1 }` in memory; `false` for no limiter. */
  rateLimit?: false | BroadcasterRateLimitOptions;
  /** Default false. */
  coalesce?: boolean;
  /** Default 10,000. */
  maxQueued?: number;
  /** Default 12,000. */
  maxBytes?: number;
  /** Queue concurrency (default 1). */
  concurrency?: number;
  /** Bound on draining in `close()` (default 10,000 ms). */
  shutdownTimeoutMs?: number;
}

/**
 * Every `createBroadcastClient` option except `limiter` (with `region` or `baseUrl`, exactly one), plus the
 * broadcaster's own. `deadlineMs` bounds each send from `send()` on, queue and limiter waits included.
 */
export type BroadcasterOptions = DistributiveOmit<BroadcastClientOptions, 'limiter'> & BroadcasterExtraOptions;

export interface BroadcasterHealth {
  /** 'down' when closed, or when the rate-limit store is failing. */
  status: 'up' | 'down';
  queued: number;
  inFlight: number;
  limiter: { store: string; ratePerSecond: number; waiting: number; lastStoreError?: string } | undefined;
  /** The last failure of a call (upstream, transport, limiter); never holds secrets. */
  lastError?: { name: string; message: string; code?: number | string; at: string };
}

export interface Broadcaster {
  readonly client: BroadcastClient;
  readonly limiter: RateLimiter | undefined;
  readonly queue: BroadcastQueue;
  /** Same as `queue.send`. */
  send(request: BroadcastRequestInput, options?: QueueSendOptions): Promise<QueueResult>;
  health(): BroadcasterHealth;
  /**
   * Drains the queue (bounded by shutdownTimeoutMs), then closes the client, the limiter, and the store it made (its
   * pub/sub connection, and a Redis client made from a URL). Idempotent.
   */
  close(): Promise<void>;
}

type KeysOfUnion<T> = T extends unknown ? keyof T : never;

/** The client's options, as known here (the compiler checks this list against `BroadcastClientOptions`). */
const CLIENT_KEYS = {
  sdkAppId: true,
  secretKey: true,
  identifier: true,
  region: true,
  baseUrl: true,
  transport: true,
  retry: true,
  timeoutMs: true,
  deadlineMs: true,
  userSigExpireSeconds: true,
  hooks: true,
  logger: true,
  allowInsecureHttp: true,
} satisfies Record<Exclude<KeysOfUnion<BroadcastClientOptions>, 'limiter'>, true>;

const OWN_KEYS = ['rateLimit', 'coalesce', 'maxQueued', 'maxBytes', 'concurrency', 'shutdownTimeoutMs'] as const;
const KNOWN_KEYS = [...OWN_KEYS, ...Object.keys(CLIENT_KEYS)];
const RATE_LIMIT_KEYS = [...LIMITER_KEYS.filter((k) => k !== 'logger' && k !== 'clock'), 'redis'];

/** Client, limiter and queue in one, from one options object validated as a whole. */
export function createBroadcaster(options: BroadcasterOptions): Broadcaster {
  throwIfIssues('invalid broadcaster options', [objectIssue(options, [])]);
  const { rateLimit, coalesce, maxQueued, maxBytes, concurrency, shutdownTimeoutMs = 10_000, ...clientOptions } = options as unknown as BroadcasterExtraOptions &
    Record<string, unknown>;
  const issues = broadcasterIssues(options);

  let limiter: RateLimiter | undefined;
  /** A store made here (not one given in `rateLimit.store`): closed by close(), with a Redis client made from a URL. */
  let ownedStore: RateLimitStore | undefined;
  if (issues.length === 0 && rateLimit !== false) {
    const { redis, store: given, ...limits } = rateLimit ?? {};
    try {
      let store: RateLimitStore;
      if (given) store = given;
      else if (typeof redis === 'string') store = ownedStore = redisUrlStore(redis, ['rateLimit', 'redis']);
      else store = ownedStore = redis ? new RedisStore({ client: redis }) : new MemoryStore();
      limiter = createRateLimiter({ key: `tim-broadcast:${options.sdkAppId}`, ...limits, store, logger: options.logger });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      issues.push(...err.issues);
    }
  }

  let client: BroadcastClient | undefined;
  try {
    // unknown keys were reported above against every key a broadcaster knows; the client sees only its own
    const own = Object.fromEntries(Object.entries(clientOptions).filter(([key]) => Object.hasOwn(CLIENT_KEYS, key)));
    client = createBroadcastClient({ ...own, limiter } as BroadcastClientOptions);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    issues.push(...err.issues);
  }
  if (issues.length || !client) {
    void client?.close();
    void limiter?.close();
    void ownedStore?.close?.();
    throw new ValidationError('invalid broadcaster options', issues);
  }
  const queue = createBroadcastQueue({ client, coalesce, maxQueued, maxBytes, concurrency, deadlineMs: options.deadlineMs });
  const broadcastClient = client;

  let closed = false;
  let closing: Promise<void> | undefined;
  return {
    client,
    limiter,
    queue,
    send: (request, sendOptions) => queue.send(request, sendOptions),
    health(): BroadcasterHealth {
      const storeError = limiter?.lastStoreError;
      const error = queue.lastError;
      const code = (error as { code?: unknown } | undefined)?.code;
      return {
        status: closed || storeError ? 'down' : 'up',
        queued: queue.size,
        inFlight: queue.inFlight,
        limiter: limiter && {
          store: limiter.store.name,
          ratePerSecond: limiter.ratePerSecond,
          waiting: limiter.waiting,
          ...(storeError ? { lastStoreError: storeError.message } : {}),
        },
        ...(error && {
          lastError: {
            name: error.name,
            message: error.message,
            ...(typeof code === 'number' || typeof code === 'string' ? { code } : {}),
            at: (queue.lastErrorAt ?? new Date()).toISOString(),
          },
        }),
      };
    },
    close() {
      closed = true;
      closing ??= (async () => {
        try {
          await queue.close({ timeoutMs: shutdownTimeoutMs });
        } finally {
          await broadcastClient.close();
          await limiter?.close();
          await ownedStore?.close?.();
        }
      })();
      return closing;
    },
  };
}

function broadcasterIssues(options: BroadcasterOptions): ValidationIssue[] {
  const issues: (ValidationIssue | undefined)[] = [];
  for (const issue of unknownOptionIssues(options, KNOWN_KEYS)) {
    issues.push(issue.path[0] === 'limiter' ? { path: ['limiter'], message: 'not an option of createBroadcaster: it makes its limiter from `rateLimit`' } : issue);
  }
  const { rateLimit, shutdownTimeoutMs } = options;
  // deadlineMs is checked by the client (whose option it is), the rest here
  issues.push(...queueTuningIssues({ ...options, deadlineMs: undefined }), numberIssue(shutdownTimeoutMs, ['shutdownTimeoutMs'], 'ms'));
  if (rateLimit !== undefined && rateLimit !== false) {
    const shape = objectIssue(rateLimit, ['rateLimit']);
    if (shape) issues.push({ ...shape, message: `${shape.message} or false` });
    else {
      const { redis, ...limits } = rateLimit;
      for (const issue of rateLimiterIssues(limits, RATE_LIMIT_KEYS)) issues.push({ ...issue, path: ['rateLimit', ...issue.path] });
      if (redis !== undefined && limits.store !== undefined) issues.push({ path: ['rateLimit', 'store'], message: 'give either redis or store, not both' });
      if (typeof redis === 'string') {
        if (!/^rediss?:\/\//.test(redis) || !URL.canParse(redis)) issues.push({ path: ['rateLimit', 'redis'], message: 'expected a redis:// or rediss:// URL' });
      } else if (redis !== undefined) {
        const r = redis as unknown as Record<string, unknown> | null;
        if (typeof r?.evalsha !== 'function' && typeof r?.evalSha !== 'function') {
          issues.push({ path: ['rateLimit', 'redis'], message: 'expected an ioredis or node-redis client, or a redis:// URL' });
        }
      }
    }
  }
  return issues.filter((i): i is ValidationIssue => i !== undefined);
}

