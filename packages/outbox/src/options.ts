import {
  MAX_MESSAGE_BYTES,
  MAX_TIMER_MS,
  describeValue,
  numberIssue,
  objectIssue,
  signalIssue,
  throwIfIssues,
  unknownOptionIssues,
  type BroadcastClient,
  type Logger,
  type ValidationIssue,
} from '@tim-broadcast/core';
import type { EnqueueOptions, OutboxHooks, WaitOptions } from '@tim-broadcast/rate-limit';
import { isRedisClient, type OutboxRedis } from './redis';

export interface OutboxClock {
  /** ms since the epoch. */
  now(): number;
}

export interface OutboxOptions {
  /** A connected ioredis or node-redis client (or cluster). It stays yours: the outbox never closes it. */
  redis: OutboxRedis;
  /** The client deliveries go through. Give it a limiter on a `RedisStore` shared by every replica. */
  client: BroadcastClient;
  /** The outbox's name: its keys are `${prefix}{${name}}:…` (one Redis Cluster slot). No braces. */
  name: string;
  /** Prepended to every key (default `'tim-broadcast:outbox:'`). */
  prefix?: string;
  /** Pack waiting broadcasts with the same `From_Account` and `CloudCustomData` into one call (default false). */
  coalesce?: boolean;
  /** Byte budget of one call's MsgBody, UTF-8 JSON (default and maximum 12,000). */
  maxBytes?: number;
  /** How long a broadcast may wait once due, when `enqueue` gives no `ttlMs` (default 3,600,000: 1 hour). */
  maxAgeMs?: number;
  /** How long a finished broadcast's status stays readable (default 86,400,000: 24 hours). */
  retentionMs?: number;
  /** How long the work of a deliverer that stopped answering stays its own before others take it over (default 30,000). */
  leaseMs?: number;
  /** Bound on each Redis call, a reconnect included (default 5,000). */
  redisTimeoutMs?: number;
  /** Time source for deadlines, schedules and the dedup window (default `Date.now`). Deliverers' clocks must agree within seconds. */
  clock?: OutboxClock;
  hooks?: OutboxHooks;
  /** Told when Redis or the API keeps failing, and when a broadcast is uncertain. */
  logger?: Logger;
}

export interface ResolvedOutboxOptions {
  redis: OutboxRedis;
  client: BroadcastClient;
  name: string;
  prefix: string;
  coalesce: boolean;
  maxBytes: number;
  maxAgeMs: number;
  retentionMs: number;
  leaseMs: number;
  redisTimeoutMs: number;
  clock: OutboxClock;
  hooks: OutboxHooks;
  logger: Logger | undefined;
}

const OPTION_KEYS = ['redis', 'client', 'name', 'prefix', 'coalesce', 'maxBytes', 'maxAgeMs', 'retentionMs', 'leaseMs', 'redisTimeoutMs', 'clock', 'hooks', 'logger'];
export const HOOK_KEYS = ['onEnqueued', 'onSending', 'onDelivered', 'onFailed', 'onExpired', 'onUncertain', 'onReclaimed'] as const;
const DAY_MS = 86_400_000;

export const DEFAULTS = {
  prefix: 'tim-broadcast:outbox:',
  maxAgeMs: 3_600_000,
  retentionMs: DAY_MS,
  leaseMs: 30_000,
  redisTimeoutMs: 5_000,
};

export function resolveOptions(options: OutboxOptions): ResolvedOutboxOptions {
  throwIfIssues('invalid outbox options', [objectIssue(options, [])]);
  const issues: (ValidationIssue | undefined)[] = [...unknownOptionIssues(options, OPTION_KEYS)];
  const { redis, client, name, prefix, coalesce, maxBytes, maxAgeMs, retentionMs, leaseMs, redisTimeoutMs, clock, hooks, logger } = options;
  if (!isRedisClient(redis)) {
    issues.push({ path: ['redis'], message: `expected an ioredis or node-redis client (with evalsha/evalSha and duplicate), got ${describeValue(redis)}` });
  }
  if (typeof client?.broadcast !== 'function') issues.push({ path: ['client'], message: `expected a BroadcastClient, got ${describeValue(client)}` });
  issues.push(keyPartIssue(name, ['name'], false), keyPartIssue(prefix, ['prefix'], true));
  if (coalesce !== undefined && typeof coalesce !== 'boolean') issues.push({ path: ['coalesce'], message: `expected a boolean, got ${describeValue(coalesce)}` });
  issues.push(
    numberIssue(maxBytes, ['maxBytes'], 'bytes', { min: 1, max: MAX_MESSAGE_BYTES }),
    numberIssue(maxAgeMs, ['maxAgeMs'], 'ms', { min: 1_000 }),
    numberIssue(retentionMs, ['retentionMs'], 'ms', { min: 0, max: 365 * DAY_MS }),
    // a lease longer than a minute would leave a dead deliverer's batches too little of the dedup window to be re-sent
    numberIssue(leaseMs, ['leaseMs'], 'ms', { min: 500, max: 60_000 }),
    numberIssue(redisTimeoutMs, ['redisTimeoutMs'], 'ms', { min: 1, max: 600_000 }),
  );
  if (clock !== undefined && typeof (clock as Partial<OutboxClock> | null)?.now !== 'function') {
    issues.push({ path: ['clock'], message: `expected { now(): number }, got ${describeValue(clock)}` });
  }
  if (hooks !== undefined) {
    const hooksIssue = objectIssue(hooks, ['hooks']);
    if (hooksIssue) issues.push(hooksIssue);
    else {
      issues.push(...unknownOptionIssues(hooks, HOOK_KEYS, ['hooks']));
      for (const key of HOOK_KEYS) {
        const hook = (hooks as Record<string, unknown>)[key];
        if (hook !== undefined && typeof hook !== 'function') issues.push({ path: ['hooks', key], message: `expected a function, got ${describeValue(hook)}` });
      }
    }
  }
  if (logger !== undefined) issues.push(objectIssue(logger, ['logger']));
  throwIfIssues('invalid outbox options', issues);
  return {
    redis,
    client,
    name,
    prefix: prefix ?? DEFAULTS.prefix,
    coalesce: coalesce ?? false,
    maxBytes: maxBytes ?? MAX_MESSAGE_BYTES,
    maxAgeMs: maxAgeMs ?? DEFAULTS.maxAgeMs,
    retentionMs: retentionMs ?? DEFAULTS.retentionMs,
    leaseMs: leaseMs ?? DEFAULTS.leaseMs,
    redisTimeoutMs: redisTimeoutMs ?? DEFAULTS.redisTimeoutMs,
    clock: clock ?? { now: () => Date.now() },
    hooks: hooks ?? {},
    logger,
  };
}

function keyPartIssue(value: unknown, path: PropertyKey[], optional: boolean): ValidationIssue | undefined {
  if (optional && value === undefined) return undefined;
  if (typeof value !== 'string') return { path, message: `expected a string, got ${describeValue(value)}` };
  if (!optional && value.length === 0) return { path, message: 'expected a non-empty string' };
  if (value.length > 200) return { path, message: `expected at most 200 characters, got ${value.length}` };
  if (/[{}]/.test(value)) return { path, message: 'must not contain braces: the outbox wraps the name in a {hash tag}' };
  return undefined;
}

export function enqueueOptionIssues(options: EnqueueOptions | undefined): ValidationIssue[] {
  if (options === undefined) return [];
  const shape = objectIssue(options, ['options']);
  if (shape) return [shape];
  const issues = unknownOptionIssues(options, ['ttlMs', 'sendAt', 'idempotencyKey', 'signal'], ['options']);
  const { ttlMs, sendAt, idempotencyKey, signal } = options;
  const found = [numberIssue(ttlMs, ['options', 'ttlMs'], 'ms', { min: 1 }), signalIssue(signal, ['options', 'signal'])];
  if (sendAt !== undefined) {
    const at = sendAt instanceof Date ? sendAt.getTime() : sendAt;
    if (typeof at !== 'number' || !Number.isFinite(at) || at < 0) {
      found.push({ path: ['options', 'sendAt'], message: `expected a Date or ms since the epoch, got ${describeValue(sendAt)}` });
    }
  }
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || idempotencyKey.length > 512)) {
    found.push({ path: ['options', 'idempotencyKey'], message: 'expected a non-empty string of at most 512 characters' });
  }
  return [...issues, ...found.filter((i): i is ValidationIssue => i !== undefined)];
}

export function waitOptionIssues(options: WaitOptions | undefined): (ValidationIssue | undefined)[] {
  if (options === undefined) return [];
  const shape = objectIssue(options, ['options']);
  if (shape) return [shape];
  return [
    ...unknownOptionIssues(options, ['signal', 'timeoutMs'], ['options']),
    signalIssue(options.signal, ['options', 'signal']),
    numberIssue(options.timeoutMs, ['options', 'timeoutMs'], 'ms', { min: 0, max: MAX_TIMER_MS }),
  ];
}

export function closeOptionIssues(options: { timeoutMs?: number } | undefined): (ValidationIssue | undefined)[] {
  if (options === undefined) return [];
  const shape = objectIssue(options, ['options']);
  if (shape) return [shape];
  return [...unknownOptionIssues(options, ['timeoutMs'], ['options']), numberIssue(options.timeoutMs, ['options', 'timeoutMs'], 'ms')];
}

export function statusOptionIssues(options: { signal?: AbortSignal } | undefined): (ValidationIssue | undefined)[] {
  if (options === undefined) return [];
  const shape = objectIssue(options, ['options']);
  if (shape) return [shape];
  return [...unknownOptionIssues(options, ['signal'], ['options']), signalIssue(options.signal, ['options', 'signal'])];
}
