import { MAX_TIMER_MS, numberIssue, objectIssue, throwIfIssues, unknownOptionIssues, type ValidationIssue } from '@tim-broadcast/core';
import { StoreError } from '../errors';
import { GCRA_SCRIPT, GCRA_SHA } from './redis-script';
import { RedisWatch, type RedisSubscriberLike } from './redis-watch';
import type { FreedListener, RateLimitStore, ReserveRequest } from './store';

export { GCRA_SCRIPT } from './redis-script';
export type { RedisSubscriberLike } from './redis-watch';

/** What the store needs of an ioredis client (`Redis` or `Cluster`). */
export interface IoRedisLike {
  evalsha(sha1: string, numkeys: number, ...args: string[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: string[]): Promise<unknown>;
  /** 'ready' when connected. */
  readonly status: string;
  once(event: 'ready', listener: () => void): unknown;
}

/** What the store needs of a node-redis (v4/v5) client, cluster or sentinel. */
export interface NodeRedisLike {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** A client's readiness (a cluster has none: commands are then sent as they come). */
  readonly isReady?: boolean;
  once(event: 'ready', listener: () => void): unknown;
}

export interface RedisStoreOptions {
  /** A connected ioredis or node-redis client (a single server, a Cluster or a Sentinel set-up). It stays yours. */
  client: IoRedisLike | NodeRedisLike;
  /** Prepended to every key (default `'tim-broadcast:rl:'`). */
  prefix?: string;
  /**
   * How long a store call may take, waiting for a reconnect included, before it fails with a StoreError
   * (default 2,000 ms). Commands are only issued on a ready connection, so nothing piles up in the
   * client's offline queue to reserve phantom slots when Redis comes back.
   */
  timeoutMs?: number;
  /**
   * A connected client used only to SUBSCRIBE to news of freed places (never closed here). By default the store
   * opens its own with `client.duplicate()` while a limiter waits on it, and closes it when none does.
   */
  subscriber?: RedisSubscriberLike;
}

const KNOWN = ['client', 'prefix', 'timeoutMs', 'subscriber'];

interface Adapter {
  run(sha: boolean, keys: [string, string], args: string[]): Promise<unknown>;
  /** true: ready; false: not yet (wait for 'ready'); undefined: unknown, just send. */
  ready(): boolean | undefined;
  onReady(listener: () => void): () => void;
}

function adapt(client: IoRedisLike | NodeRedisLike): Adapter {
  const c = client as Partial<IoRedisLike & NodeRedisLike>;
  // one 'ready' listener on the client however many steps wait for the connection (a registry starts thousands)
  let waiting: Set<() => void> | undefined;
  const events = (listener: () => void) => {
    if (!waiting) {
      const these = (waiting = new Set());
      c.once?.('ready', () => {
        if (waiting === these) waiting = undefined;
        for (const wake of these) wake();
      });
    }
    const these = waiting;
    these.add(listener);
    return () => void these.delete(listener);
  };
  if (typeof c.evalSha === 'function') {
    const node = client as NodeRedisLike;
    return {
      run: (sha, keys, args) => (sha ? node.evalSha(GCRA_SHA, { keys, arguments: args }) : node.eval(GCRA_SCRIPT, { keys, arguments: args })),
      ready: () => (typeof node.isReady === 'boolean' ? node.isReady : undefined),
      onReady: events,
    };
  }
  const io = client as IoRedisLike;
  return {
    run: (sha, keys, args) => (sha ? io.evalsha(GCRA_SHA, 2, ...keys, ...args) : io.eval(GCRA_SCRIPT, 2, ...keys, ...args)),
    // 'wait' is a lazyConnect client that connects on its first command
    ready: () => (typeof io.status === 'string' ? io.status === 'ready' || io.status === 'wait' : undefined),
    onReady: events,
  };
}

/**
 * A store shared by every process that uses the same Redis and key: one Lua script per step, Redis's clock, and
 * pub/sub to wake the waiters of every process when a place is freed.
 */
export class RedisStore implements RateLimitStore {
  readonly name = 'redis';
  readonly #redis: Adapter;
  readonly #watch: RedisWatch;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(options: RedisStoreOptions) {
    throwIfIssues('invalid RedisStore options', redisStoreIssues(options));
    this.#redis = adapt(options.client);
    this.#watch = new RedisWatch(options.client, options.subscriber);
    this.#prefix = options.prefix ?? 'tim-broadcast:rl:';
    this.#timeoutMs = options.timeoutMs ?? 2_000;
  }

  async reserve(key: string, request: ReserveRequest): Promise<{ waitMs: number }> {
    const { intervalMs, limit, holdMs, id = '' } = request;
    const reply = await this.#step(key, ['reserve', String(intervalMs), String(limit), String(holdMs), id]);
    const waitMs = Number(reply);
    if (!Number.isFinite(waitMs)) throw new StoreError(this.name, `unexpected script reply ${JSON.stringify(reply)}`);
    return { waitMs };
  }

  async complete(key: string, id: string, windowMs: number): Promise<void> {
    await this.#step(key, ['complete', id, String(windowMs), this.#channel(key)]);
  }

  async hold(key: string, id: string, holdMs: number): Promise<void> {
    await this.#step(key, ['hold', id, String(holdMs)]);
  }

  async penalize(key: string, ms: number): Promise<void> {
    await this.#step(key, ['penalize', String(ms)]);
  }

  watch(key: string, listener: FreedListener): () => void {
    return this.#watch.watch(this.#channel(key), listener);
  }

  /**
   * Stops every watch and closes the pub/sub connection the store opened, resolving once it is closed. Your client
   * (and a `subscriber` you gave) stay open. Close the limiters first.
   */
  async close(): Promise<void> {
    await this.#watch.close();
  }

  async #step(key: string, args: string[]): Promise<unknown> {
    // one timer bounds the whole step, the wait for a reconnect included (no AbortController: this runs 2-3 times per call)
    let timer: NodeJS.Timeout | undefined;
    let waitingForReady = false;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreError(this.name, waitingForReady ? `not connected (waited ${this.#timeoutMs} ms)` : `no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    timedOut.catch(() => {}); // raced below; unhandled only when the step settled first
    let stopWaiting = () => {};
    try {
      if (this.#redis.ready() === false) {
        waitingForReady = true;
        await Promise.race([new Promise<void>((resolve) => (stopWaiting = this.#redis.onReady(resolve))), timedOut]);
        waitingForReady = false;
      }
      return await Promise.race([this.#run(this.#keys(key), args), timedOut]);
    } catch (err) {
      throw err instanceof StoreError ? err : new StoreError(this.name, describe(err), { cause: err });
    } finally {
      clearTimeout(timer);
      stopWaiting();
    }
  }

  /** The TAT and the log; the braces (a hash tag) keep both in one Redis Cluster slot. */
  #keys(key: string): [string, string] {
    const base = `${this.#prefix}{${key}}`;
    return [base, `${base}:log`];
  }

  #channel(key: string): string {
    return `${this.#prefix}{${key}}:freed`;
  }

  async #run(keys: [string, string], args: string[]): Promise<unknown> {
    try {
      return await this.#redis.run(true, keys, args);
    } catch (err) {
      // first use on this server, or after SCRIPT FLUSH / a restart: load it by sending it whole
      if (String((err as Error)?.message).startsWith('NOSCRIPT')) return await this.#redis.run(false, keys, args);
      throw err;
    }
  }
}

function redisStoreIssues(options: RedisStoreOptions): ValidationIssue[] {
  const shape = objectIssue(options, []);
  if (shape) return [shape];
  const issues: (ValidationIssue | undefined)[] = [...unknownOptionIssues(options, KNOWN)];
  const { client, prefix, timeoutMs, subscriber } = options;
  const c = client as unknown as Record<string, unknown> | null | undefined;
  if (typeof c?.evalsha !== 'function' && typeof c?.evalSha !== 'function') {
    issues.push({ path: ['client'], message: 'expected an ioredis client (with evalsha) or a node-redis client (with evalSha)' });
  }
  if (prefix !== undefined && typeof prefix !== 'string') issues.push({ path: ['prefix'], message: 'expected a string' });
  issues.push(numberIssue(timeoutMs, ['timeoutMs'], 'ms', { min: 0, minInclusive: false, max: MAX_TIMER_MS }));
  const s = subscriber as Record<string, unknown> | null | undefined;
  if (subscriber !== undefined && (typeof s?.subscribe !== 'function' || typeof s?.unsubscribe !== 'function')) {
    issues.push({ path: ['subscriber'], message: 'expected a connected ioredis or node-redis client (with subscribe and unsubscribe)' });
  }
  return issues.filter((i): i is ValidationIssue => i !== undefined);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
