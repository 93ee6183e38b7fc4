import {
  MAX_TIMER_MS,
  numberIssue,
  objectIssue,
  unknownOptionIssues,
  type BroadcastClientOptions,
  type Endpoint,
  type Logger,
  type Region,
  type SecretKeySource,
  type Transport,
  type ValidationIssue,
} from '@tim-broadcast/core';
import type { BroadcasterExtraOptions, BroadcasterRateLimitOptions } from './broadcaster';
import type { IoRedisLike, NodeRedisLike } from './stores/redis';

/** What a registry needs to know of one app; the rest comes from its `defaults`. */
export interface AppCredentials {
  /** The app's secret key, or a function returning it (called whenever a UserSig is signed). */
  secretKey: SecretKeySource;
  /** An app admin account. */
  identifier: string;
  /** The app's region, or `baseUrl` (exactly one). */
  region?: Region;
  baseUrl?: string | Endpoint;
  /** See the client's option of that name. */
  allowInsecureHttp?: boolean;
  /** The app's edition: 1 call per second (default, or `defaults.rateLimit.ratePerSecond`) or 5. */
  ratePerSecond?: number;
}

/**
 * Gives an app's credentials, or `undefined`/`null` when there is no such app. `signal` fires when the registry
 * stops waiting (`credentialsTimeoutMs`, or `close()`).
 */
export type CredentialsProvider = (
  sdkAppId: number,
  context: { signal: AbortSignal },
) => AppCredentials | undefined | null | Promise<AppCredentials | undefined | null>;

/** Broadcaster options every app of a registry gets (per-app ones come from the provider, shared parts from the registry). */
export type RegistryDefaults = Omit<BroadcasterExtraOptions, 'rateLimit'> &
  Pick<BroadcastClientOptions, 'retry' | 'timeoutMs' | 'deadlineMs' | 'userSigExpireSeconds' | 'hooks'> & {
    /** Default `{ ratePerSecond: 1 }`; `false`: no limiter. The store is the registry's, the key `limiterKey`'s. */
    rateLimit?: false | Omit<BroadcasterRateLimitOptions, 'redis' | 'store' | 'key'>;
  };

export interface BroadcastRegistryOptions {
  /** Called (at most once at a time per app) when an app is first used, or used again after it was evicted. */
  credentials: CredentialsProvider;
  /**
   * Where every app's limit lives: a Redis client you own (ioredis or node-redis; never closed here), or a URL, for
   * which an ioredis client is created and quit by `close()`. One store, one pub/sub connection, for all apps.
   * Default: in this process's memory (one `MemoryStore` for all apps).
   */
  redis?: IoRedisLike | NodeRedisLike | string;
  /** One transport for every app (yours stays open). Default: an undici pool of up to 256 sockets, or fetch. */
  transport?: Transport;
  /** An app that has not been used, and has had nothing queued or in flight, for this long is closed (default 300,000). */
  idleTimeoutMs?: number;
  /** Most apps held at once (default 10,000); a new one beyond it evicts the least recently used idle one. */
  maxApps?: number;
  /** Options of every app's broadcaster. */
  defaults?: RegistryDefaults;
  /**
   * The rate-limit key of an app (default `tim-broadcast:${sdkAppId}`, as `createBroadcaster` uses); the same in
   * every process. It must end with the SDKAppID (not preceded by a digit), so no two apps can ever share one.
   */
  limiterKey?: (sdkAppId: number) => string;
  /** Bound on one call of the provider (default 10,000 ms). */
  credentialsTimeoutMs?: number;
  /** After a provider failure, the app's calls fail at once for `baseDelayMs` (default 1,000), doubling per failure in a row up to `maxDelayMs` (default 60,000). */
  credentialsRetry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Every app's logger (store failures, retries) and the registry's own (provider failures); default console. */
  logger?: Logger;
}

export const REGISTRY_KEYS = [
  'credentials',
  'redis',
  'transport',
  'idleTimeoutMs',
  'maxApps',
  'defaults',
  'limiterKey',
  'credentialsTimeoutMs',
  'credentialsRetry',
  'logger',
] as const;

export const DEFAULT_KEYS = [
  'rateLimit',
  'coalesce',
  'maxQueued',
  'maxBytes',
  'concurrency',
  'shutdownTimeoutMs',
  'retry',
  'timeoutMs',
  'deadlineMs',
  'userSigExpireSeconds',
  'hooks',
];

export const CREDENTIAL_KEYS = ['secretKey', 'identifier', 'region', 'baseUrl', 'allowInsecureHttp', 'ratePerSecond'];

/** Options that exist on a broadcaster but belong elsewhere in a registry, and where. */
const ELSEWHERE: Record<string, string> = {
  sdkAppId: 'each app is named by the SDKAppID given to get() and send()',
  secretKey: 'per-app: returned by the credentials provider',
  identifier: 'per-app: returned by the credentials provider',
  region: 'per-app: returned by the credentials provider',
  baseUrl: 'per-app: returned by the credentials provider',
  allowInsecureHttp: 'per-app: returned by the credentials provider',
  transport: 'shared by every app: a registry option (top level)',
  logger: 'shared by every app: a registry option (top level)',
  limiter: 'the registry makes each app its limiter',
};
const RATE_LIMIT_ELSEWHERE: Record<string, string> = {
  redis: 'shared by every app: the registry option `redis`',
  store: "the registry's own (from its `redis` option)",
  key: 'per app: the registry option `limiterKey`',
};

export const MAX_REGISTRY_APPS = 1_000_000;

type Issue = ValidationIssue | undefined;

/** Issues of the registry's own options; `defaults` is checked further by building a broadcaster from it. */
export function registryIssues(options: BroadcastRegistryOptions): ValidationIssue[] {
  const shape = objectIssue(options, []);
  if (shape) return [shape];
  const issues: Issue[] = [...unknownOptionIssues(options, REGISTRY_KEYS)];
  const { credentials, redis, transport, idleTimeoutMs, maxApps, defaults, limiterKey, credentialsTimeoutMs, credentialsRetry, logger } = options;
  if (typeof credentials !== 'function') issues.push({ path: ['credentials'], message: 'expected a function (sdkAppId) => credentials' });
  if (typeof redis === 'string') {
    if (!/^rediss?:\/\//.test(redis) || !URL.canParse(redis)) issues.push({ path: ['redis'], message: 'expected a redis:// or rediss:// URL' });
  } else if (redis !== undefined) {
    const r = redis as unknown as Record<string, unknown> | null;
    if (typeof r?.evalsha !== 'function' && typeof r?.evalSha !== 'function') {
      issues.push({ path: ['redis'], message: 'expected an ioredis or node-redis client, or a redis:// URL' });
    }
  }
  if (transport !== undefined && typeof (transport as Partial<Transport> | null)?.send !== 'function') {
    issues.push({ path: ['transport'], message: 'expected a Transport with send() and close()' });
  }
  issues.push(
    numberIssue(idleTimeoutMs, ['idleTimeoutMs'], 'ms', { min: 1, max: MAX_TIMER_MS }),
    numberIssue(maxApps, ['maxApps'], 'count', { min: 1, max: MAX_REGISTRY_APPS }),
    numberIssue(credentialsTimeoutMs, ['credentialsTimeoutMs'], 'ms', { min: 1, max: MAX_TIMER_MS }),
  );
  if (limiterKey !== undefined && typeof limiterKey !== 'function') issues.push({ path: ['limiterKey'], message: 'expected a function (sdkAppId) => key' });
  if (logger !== undefined && (typeof logger !== 'object' || logger === null)) issues.push({ path: ['logger'], message: 'expected a console-compatible logger' });
  if (credentialsRetry !== undefined) {
    const retryShape = objectIssue(credentialsRetry, ['credentialsRetry']);
    if (retryShape) issues.push(retryShape);
    else {
      const { baseDelayMs, maxDelayMs } = credentialsRetry;
      issues.push(
        ...unknownOptionIssues(credentialsRetry, ['baseDelayMs', 'maxDelayMs'], ['credentialsRetry']),
        numberIssue(baseDelayMs, ['credentialsRetry', 'baseDelayMs'], 'ms', { max: MAX_TIMER_MS }),
        numberIssue(maxDelayMs, ['credentialsRetry', 'maxDelayMs'], 'ms', { max: MAX_TIMER_MS }),
      );
    }
  }
  if (defaults !== undefined) issues.push(...defaultsIssues(defaults));
  return issues.filter((i): i is ValidationIssue => i !== undefined);
}

/** The keys of `defaults` that are not broadcaster options, or belong elsewhere in a registry. */
function defaultsIssues(defaults: RegistryDefaults): Issue[] {
  const shape = objectIssue(defaults, ['defaults']);
  if (shape) return [shape];
  const issues: Issue[] = [];
  for (const issue of unknownOptionIssues(defaults, DEFAULT_KEYS, ['defaults'])) {
    const key = String(issue.path[1]);
    issues.push(Object.hasOwn(ELSEWHERE, key) ? { path: issue.path, message: `not a default: ${ELSEWHERE[key]}` } : issue);
  }
  const { rateLimit } = defaults;
  if (rateLimit && typeof rateLimit === 'object') {
    for (const key of Object.keys(rateLimit)) {
      if (Object.hasOwn(RATE_LIMIT_ELSEWHERE, key)) issues.push({ path: ['defaults', 'rateLimit', key], message: `not a default: ${RATE_LIMIT_ELSEWHERE[key]}` });
    }
  }
  return issues;
}

/** Issues of what a provider returned (ValidationIssues with paths relative to it). */
export function credentialIssues(credentials: unknown): ValidationIssue[] {
  const shape = objectIssue(credentials, []);
  if (shape) return [{ ...shape, message: `${shape.message} (the credentials of the app), or undefined for an unknown app` }];
  return unknownOptionIssues(credentials as Record<string, unknown>, CREDENTIAL_KEYS);
}

/** Why `key` cannot be the limiter key of `sdkAppId`, or undefined. */
export function limiterKeyProblem(key: unknown, sdkAppId: number): string | undefined {
  if (typeof key !== 'string' || key.length === 0 || key.length > 256) return 'expected a non-empty string of at most 256 characters';
  if (/[{}]/.test(key)) return 'must not contain braces (the store puts the key in a Redis Cluster hash tag)';
  const id = String(sdkAppId);
  // the SDKAppID is read back from the key's end, so two apps' keys always differ: no shared limit by accident
  if (!key.endsWith(id) || /\d/.test(key.charAt(key.length - id.length - 1))) {
    return `must end with the SDKAppID (${id}, not preceded by a digit), so that no two apps can share a limit`;
  }
  return undefined;
}
