import {
  createBroadcastClient,
  ValidationError,
  type BroadcastClient,
  type BroadcastClientOptions,
  type BroadcastRequestInput,
  type ValidationIssue,
} from '@tim-broadcast/core';
import { createRateLimiter, rateLimiterIssues, type RateLimiter } from './limiter';
import { createBroadcastQueue, queueTuningIssues, type BroadcastQueue, type QueueResult, type QueueSendOptions } from './queue';
import { MemoryStore } from './stores/memory';
import { RedisStore, type IoRedisLike, type NodeRedisLike } from './stores/redis';
import { redisUrlStore } from './stores/redis-url';
import type { RateLimitStore } from './stores/store';

export interface BroadcasterRateLimitOptions {
  /** Default 1. */
  ratePerSecond?: number;
  safetyMarginMs?: number;
  /** Default `tim-broadcast:${sdkAppId}`. */
  key?: string;
  /** Default 'wait-and-retry'. */
  onStoreError?: 'fail' | 'wait-and-retry';
  /**
   * Share the limit through Redis: a client you own (ioredis or node-redis; never closed here), or a URL, for which
   * an ioredis client is created (ioredis is an optional peer dependency) and quit by `close()`.
   */
  redis?: IoRedisLike | NodeRedisLike | string;
}

export interface BroadcasterOptions extends Omit<BroadcastClientOptions, 'limiter'> {
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
  /** Drains the queue (bounded by shutdownTimeoutMs), then closes the client, the limiter and a Redis client it created. Idempotent. */
  close(): Promise<void>;
}

const RATE_LIMIT_KEYS = new Set(['ratePerSecond', 'safetyMarginMs', 'key', 'onStoreError', 'redis']);

/** Client, limiter and queue in one, from one options object validated as a whole. */
export function createBroadcaster(options: BroadcasterOptions): Broadcaster {
  if (!options || typeof options !== 'object') {
    throw new ValidationError('invalid broadcaster options', [{ path: [], message: 'expected an options object' }]);
  }
  const { rateLimit, coalesce, maxQueued, maxBytes, concurrency, shutdownTimeoutMs = 10_000, ...clientOptions } = options;
  if ('limiter' in clientOptions) delete (clientOptions as { limiter?: unknown }).limiter;
  const issues = broadcasterIssues(options);

  let limiter: RateLimiter | undefined;
  let ownedRedis: ReturnType<typeof redisUrlStore> | undefined;
  if (issues.length === 0 && rateLimit !== false) {
    const { redis, ...limits } = rateLimit ?? {};
    let store: RateLimitStore;
    if (typeof redis === 'string') store = ownedRedis = redisUrlStore(redis);
    else store = redis ? new RedisStore({ client: redis }) : new MemoryStore();
    limiter = createRateLimiter({ key: `tim-broadcast:${options.sdkAppId}`, ...limits, store, logger: options.logger });
  }

  let client: BroadcastClient | undefined;
  try {
    client = createBroadcastClient({ ...clientOptions, limiter } as BroadcastClientOptions);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    issues.push(...err.issues);
  }
  if (issues.length || !client) {
    void client?.close();
    throw new ValidationError('invalid broadcaster options', issues);
  }
  ownedRedis?.connect();
  const queue = createBroadcastQueue({ client, coalesce, maxQueued, maxBytes, concurrency });
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
          await ownedRedis?.close();
        }
      })();
      return closing;
    },
  };
}

function broadcasterIssues(options: BroadcasterOptions): ValidationIssue[] {
  const issues: ValidationIssue[] = queueTuningIssues(options);
  const { rateLimit, shutdownTimeoutMs } = options;
  if (shutdownTimeoutMs !== undefined && (typeof shutdownTimeoutMs !== 'number' || !(shutdownTimeoutMs >= 0))) {
    issues.push({ path: ['shutdownTimeoutMs'], message: 'expected a non-negative number of ms' });
  }
  if (rateLimit === undefined || rateLimit === false) return issues;
  if (rateLimit === null || typeof rateLimit !== 'object') {
    issues.push({ path: ['rateLimit'], message: 'expected rate-limit options or false' });
    return issues;
  }
  for (const key of Object.keys(rateLimit)) if (!RATE_LIMIT_KEYS.has(key)) issues.push({ path: ['rateLimit', key], message: 'unknown rate-limit option' });
  for (const issue of rateLimiterIssues(rateLimit)) issues.push({ ...issue, path: ['rateLimit', ...issue.path] });
  const { redis } = rateLimit;
  if (typeof redis === 'string') {
    if (!/^rediss?:\/\//.test(redis) || !URL.canParse(redis)) issues.push({ path: ['rateLimit', 'redis'], message: 'expected a redis:// or rediss:// URL' });
  } else if (redis !== undefined) {
    const r = redis as unknown as Record<string, unknown> | null;
    if (typeof r?.evalsha !== 'function' && typeof r?.evalSha !== 'function') {
      issues.push({ path: ['rateLimit', 'redis'], message: 'expected an ioredis or node-redis client, or a redis:// URL' });
    }
  }
  return issues;
}
