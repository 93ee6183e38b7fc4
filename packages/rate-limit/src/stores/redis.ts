import { createHash } from 'node:crypto';
import { StoreError } from '../errors';
import type { RateLimitStore, ReserveRequest } from './store';

/**
 * One step on the schedule (see RateLimitStore), atomically, on Redis's own clock (`TIME`), so the clocks of
 * the processes never matter. KEYS[1] = the TAT, KEYS[2] = the log (a sorted set: id → when its place is freed).
 * ARGV[1] = the operation:
 *   'reserve'  ARGV[2] interval, ARGV[3] limit, ARGV[4] hold, ARGV[5] id ('' = not tracked) → ms to wait, '0' = admitted
 *   'complete' ARGV[2] id, ARGV[3] window                                                   → '0'
 *   'penalize' ARGV[2] ms                                                                   → '0'
 * Both keys expire once they no longer matter (a missing key means idle). Numbers travel as strings, because
 * Redis truncates Lua numbers in replies to integers.
 */
export const GCRA_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1])) or now
local op = ARGV[1]
local function ms(n) return string.format('%.3f', n) end
local function keep(key, untilMs) redis.call('PEXPIRE', key, math.max(0, math.ceil(untilMs - now)) + 1000) end
local function keepLog()
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  if last[2] then keep(KEYS[2], tonumber(last[2])) end
end

if op == 'penalize' then
  tat = math.max(tat, now) + tonumber(ARGV[2])
  redis.call('SET', KEYS[1], ms(tat))
  keep(KEYS[1], tat)
  return '0'
end

redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ms(now))
if op == 'complete' then
  redis.call('ZADD', KEYS[2], 'XX', ms(now + tonumber(ARGV[3])), ARGV[2])
  keepLog()
  return '0'
end

local wait = tat - now
local limit = tonumber(ARGV[3])
local held = redis.call('ZCARD', KEYS[2])
if held >= limit then
  local freed = redis.call('ZRANGE', KEYS[2], held - limit, held - limit, 'WITHSCORES')
  wait = math.max(wait, tonumber(freed[2]) - now)
end
if wait > 0 then return ms(wait) end
tat = now + tonumber(ARGV[2])
redis.call('SET', KEYS[1], ms(tat))
keep(KEYS[1], tat)
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[2], ms(now + tonumber(ARGV[4])), ARGV[5])
  keepLog()
end
return '0'
`;
const GCRA_SHA = createHash('sha1').update(GCRA_SCRIPT).digest('hex');

/** What the store needs of an ioredis client (`Redis` or `Cluster`). */
export interface IoRedisLike {
  evalsha(sha1: string, numkeys: number, ...args: string[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: string[]): Promise<unknown>;
  /** 'ready' when connected. */
  readonly status: string;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

/** What the store needs of a node-redis (v4/v5) client or cluster. */
export interface NodeRedisLike {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** A client's readiness (a cluster has none: commands are then sent as they come). */
  readonly isReady?: boolean;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

export interface RedisStoreOptions {
  /** A connected ioredis or node-redis client. It stays yours: the store never closes it. */
  client: IoRedisLike | NodeRedisLike;
  /** Prepended to every key (default `'tim-broadcast:rl:'`). */
  prefix?: string;
  /**
   * How long a store call may take, waiting for a reconnect included, before it fails with a StoreError
   * (default 2,000 ms). Commands are only issued on a ready connection, so nothing piles up in the
   * client's offline queue to reserve phantom slots when Redis comes back.
   */
  timeoutMs?: number;
}

interface Adapter {
  run(sha: boolean, keys: [string, string], args: string[]): Promise<unknown>;
  /** true: ready; false: not yet (wait for 'ready'); undefined: unknown, just send. */
  ready(): boolean | undefined;
  onReady(listener: () => void): () => void;
}

function adapt(client: IoRedisLike | NodeRedisLike): Adapter {
  const c = client as Partial<IoRedisLike & NodeRedisLike>;
  const events = (listener: () => void) => {
    c.once?.('ready', listener);
    return () => void c.off?.('ready', listener);
  };
  if (typeof c.evalSha === 'function') {
    const node = client as NodeRedisLike;
    return {
      run: (sha, keys, args) => (sha ? node.evalSha(GCRA_SHA, { keys, arguments: args }) : node.eval(GCRA_SCRIPT, { keys, arguments: args })),
      ready: () => (typeof node.isReady === 'boolean' ? node.isReady : undefined),
      onReady: events,
    };
  }
  if (typeof c.evalsha === 'function') {
    const io = client as IoRedisLike;
    return {
      run: (sha, keys, args) => (sha ? io.evalsha(GCRA_SHA, 2, ...keys, ...args) : io.eval(GCRA_SCRIPT, 2, ...keys, ...args)),
      // 'wait' is a lazyConnect client that connects on its first command
      ready: () => (typeof io.status === 'string' ? io.status === 'ready' || io.status === 'wait' : undefined),
      onReady: events,
    };
  }
  throw new TypeError('RedisStore: expected an ioredis client (with evalsha) or a node-redis client (with evalSha)');
}

/** A store shared by every process that uses the same Redis and key: one Lua script per step, Redis's clock. */
export class RedisStore implements RateLimitStore {
  readonly name = 'redis';
  readonly #redis: Adapter;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(options: RedisStoreOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('RedisStore: expected { client }');
    this.#redis = adapt(options.client);
    this.#prefix = options.prefix ?? 'tim-broadcast:rl:';
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    if (typeof this.#prefix !== 'string') throw new TypeError('RedisStore: prefix must be a string');
    if (!(this.#timeoutMs > 0)) throw new TypeError('RedisStore: timeoutMs must be a positive number');
  }

  async reserve(key: string, request: ReserveRequest): Promise<{ waitMs: number }> {
    const { intervalMs, limit, holdMs, id = '' } = request;
    const reply = await this.#step(key, ['reserve', String(intervalMs), String(limit), String(holdMs), id]);
    const waitMs = Number(reply);
    if (!Number.isFinite(waitMs)) throw new StoreError(this.name, `unexpected script reply ${JSON.stringify(reply)}`);
    return { waitMs };
  }

  async complete(key: string, id: string, windowMs: number): Promise<void> {
    await this.#step(key, ['complete', id, String(windowMs)]);
  }

  async penalize(key: string, ms: number): Promise<void> {
    await this.#step(key, ['penalize', String(ms)]);
  }

  async #step(key: string, args: string[]): Promise<unknown> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    try {
      if (this.#redis.ready() === false) await this.#whenReady(timeout.signal);
      return await this.#until(this.#run(this.#keys(key), args), timeout.signal, `no answer within ${this.#timeoutMs} ms`);
    } catch (err) {
      throw err instanceof StoreError ? err : new StoreError(this.name, describe(err), { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The TAT and the log; the braces keep both in one Redis Cluster slot. */
  #keys(key: string): [string, string] {
    const base = `${this.#prefix}{${key}}`;
    return [base, `${base}:log`];
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

  #whenReady(signal: AbortSignal): Promise<void> {
    let stop = () => {};
    const ready = new Promise<void>((resolve) => (stop = this.#redis.onReady(resolve)));
    return this.#until(ready, signal, `not connected (waited ${this.#timeoutMs} ms)`).finally(stop);
  }

  /** `promise`, or a StoreError with `message` when `signal` fires first. */
  #until<T>(promise: Promise<T>, signal: AbortSignal, message: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new StoreError(this.name, message));
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
