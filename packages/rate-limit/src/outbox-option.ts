// The `outbox` option of the NestJS and Express packages, in one place for both. @tim-broadcast/outbox sits above
// this package (it imports rate-limit), so it is never imported here, not even its types: it is loaded by name at run
// time (an optional peer), in the module format of this build (see optional.ts). Its public shapes are declared in
// outbox-contract.ts, which the outbox package re-exports.
import { describeValue, objectIssue, ValidationError, type BroadcastClient, type Logger, type ValidationIssue } from '@tim-broadcast/core';
import type { BroadcasterOptions } from './broadcaster';
import { loadOptional } from './optional';
import type { Outbox, OutboxHooks } from './outbox-contract';
import type { IoRedisLike, NodeRedisLike } from './stores/redis';

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

/** What openOutbox calls of @tim-broadcast/outbox (`createOutbox` there accepts these options: a type test checks it). */
export interface OutboxFactory {
  createOutbox(options: Omit<BroadcastOutboxOptions, 'redis' | 'deliver'> & { redis: unknown; client: BroadcastClient; name: string }): Outbox;
}

/** One app's outbox, and the Redis client it created from a URL. */
export interface AppOutbox {
  readonly outbox: Outbox;
  /** Whether this process delivers (`deliver`, default true). */
  readonly deliver: boolean;
  /** Bound on stopping the deliverer at shutdown. */
  readonly timeoutMs: number;
  /** Stops delivering within `timeoutMs` (what is queued stays in Redis), then quits a Redis client it created. */
  close(): Promise<void>;
}

/** The `outbox` option's own fields, checked with the broadcaster's options; the rest are checked by `createOutbox`. */
export function outboxOptionIssues(value: unknown, path: PropertyKey[]): ValidationIssue[] {
  const shape = objectIssue(value, path);
  if (shape) return [shape];
  const { redis, deliver } = value as Partial<BroadcastOutboxOptions>;
  const issues: ValidationIssue[] = [];
  if (typeof redis === 'string') {
    if (!/^rediss?:\/\//.test(redis) || !URL.canParse(redis)) issues.push({ path: [...path, 'redis'], message: 'expected a redis:// or rediss:// URL, or a client' });
  } else if (!isRedisClient(redis)) {
    issues.push({ path: [...path, 'redis'], message: `required: an ioredis or node-redis client, or a redis:// URL, got ${describeValue(redis)}` });
  }
  if (deliver !== undefined && typeof deliver !== 'boolean') issues.push({ path: [...path, 'deliver'], message: `expected a boolean, got ${describeValue(deliver)}` });
  if (Object.hasOwn(value as object, 'client')) {
    issues.push({ path: [...path, 'client'], message: "the outbox delivers through the app's own client; leave it out" });
  }
  return issues;
}

/** Unless the options name a Redis for the limiter, the limiter shares the outbox's: every deliverer, one schedule. */
export function withSharedLimiter<T extends Pick<BroadcasterOptions, 'rateLimit'>>(options: T, outbox: BroadcastOutboxOptions): T {
  const { rateLimit } = options;
  if (rateLimit === false || (rateLimit !== undefined && (typeof rateLimit !== 'object' || rateLimit === null || rateLimit.redis !== undefined))) return options;
  return { ...options, rateLimit: { ...rateLimit, redis: outbox.redis } };
}

export interface OpenOutboxContext {
  /** The app's client: deliveries go through it and its limiter. */
  client: BroadcastClient;
  sdkAppId: number;
  logger: Logger;
  timeoutMs: number;
  /** For errors: the ValidationError's summary, and where the option sits. */
  summary: string;
  path: PropertyKey[];
  /**
   * Loads `@tim-broadcast/outbox` from the integration's own package (where it is declared as a peer), in the build's
   * own module format: `module.require` of it in CommonJS, a dynamic import of it in ESM.
   * Node resolves a package name from the file that asks for it, and this package cannot depend on the outbox
   * (the outbox depends on it).
   */
  loadOutbox: () => unknown;
}

/** Loads @tim-broadcast/outbox through `context.loadOutbox` and creates the app's outbox; it delivers once started. */
export async function openOutbox(given: BroadcastOutboxOptions, context: OpenOutboxContext): Promise<AppOutbox> {
  const { summary, path } = context;
  const { redis, deliver = true, ...rest } = given;
  const { createOutbox } = await loadOptional<OutboxFactory>('@tim-broadcast/outbox', { summary, path, feature: 'the outbox option' }, context.loadOutbox);
  const owned = typeof redis === 'string' ? await connectRedis(redis, { summary, path: [...path, 'redis'] }) : undefined;
  let outbox: Outbox;
  try {
    outbox = createOutbox({ name: String(context.sdkAppId), logger: context.logger, ...rest, redis: owned ? owned.client : redis, client: context.client });
  } catch (err) {
    await owned?.quit();
    if (!(err instanceof ValidationError)) throw err;
    throw new ValidationError(summary, err.issues.map((issue) => ({ ...issue, path: [...path, ...issue.path] })));
  }
  let closing: Promise<void> | undefined;
  return {
    outbox,
    deliver,
    timeoutMs: context.timeoutMs,
    close: () =>
      (closing ??= (async () => {
        try {
          // the outbox bounds its own close; this bound keeps a shutdown from hanging should it not
          const bound = context.timeoutMs + CLOSE_GRACE_MS;
          if ((await within(outbox.close({ timeoutMs: context.timeoutMs }), bound)) === 'late') {
            context.logger.warn?.(`tim-broadcast: the outbox did not close within ${bound} ms; shutting down without waiting for it`);
          }
        } finally {
          await owned?.quit();
        }
      })()),
  };
}

/** How long a created client may take to say goodbye before it is disconnected. */
const QUIT_TIMEOUT_MS = 2_000;
/** How long past its own bound the outbox's close is waited for. */
const CLOSE_GRACE_MS = 2_000;

/** 'done' when `promise` settles within `ms`, else 'late' (it is left to settle on its own). */
async function within(promise: Promise<unknown>, ms: number): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const done = promise.then(() => 'done' as const);
  // a failure after the bound has no one left to report to
  done.catch(() => {});
  try {
    return await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface OwnedRedis {
  client: unknown;
  quit(): Promise<void>;
}

/** An ioredis client for a URL (ioredis is an optional peer); its failures surface as the outbox's OutboxRedisErrors. */
async function connectRedis(url: string, need: { summary: string; path: PropertyKey[] }): Promise<OwnedRedis> {
  const mod = await loadOptional<Record<string, unknown>>('ioredis', { ...need, feature: 'outbox.redis as a URL' });
  const Redis = (mod.default ?? mod.Redis) as new (url: string, options: object) => {
    readonly status: string;
    on(event: 'error', listener: () => void): unknown;
    quit(): Promise<unknown>;
    disconnect(): void;
  };
  const client = new Redis(url, { connectionName: 'tim-broadcast-outbox' });
  // without a listener ioredis would print every failed reconnect
  client.on('error', () => {});
  return {
    client,
    async quit() {
      // QUIT waits behind the commands queued while Redis is unreachable, for as long as it stays so
      if (client.status !== 'ready') return client.disconnect();
      const timer = setTimeout(() => client.disconnect(), QUIT_TIMEOUT_MS);
      await client.quit().then(
        () => undefined,
        () => client.disconnect(),
      );
      clearTimeout(timer);
    },
  };
}

function isRedisClient(value: unknown): boolean {
  const c = value as Record<string, unknown> | null | undefined;
  return typeof c === 'object' && c !== null && (typeof c.evalsha === 'function' || typeof c.evalSha === 'function');
}
