import { AbortError } from '@tim-broadcast/core';
import { OutboxRedisError } from './errors';
import { OUTBOX_SCRIPT, OUTBOX_SHA } from './script';

/** What the outbox needs of an ioredis client (`Redis` or `Cluster`). */
export interface IoRedisLike {
  evalsha(sha1: string, numkeys: number, ...args: string[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: string[]): Promise<unknown>;
  /** A new connection with the same options (for blocking reads and pub/sub). */
  duplicate(): unknown;
  /** 'ready' when connected. */
  readonly status: string;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

/** What the outbox needs of a node-redis (v4/v5) client or cluster. */
export interface NodeRedisLike {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** A new, unconnected client with the same options (for blocking reads and pub/sub). */
  duplicate(): unknown;
  readonly isReady?: boolean;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

export type OutboxRedis = IoRedisLike | NodeRedisLike;

/** A connection of our own, for one blocking read at a time. */
export interface Blocker {
  /** Resolves when an entry newer than `ids[i]` lands in `keys[i]`, after `ms`, or when closed. */
  wait(keys: [string, string], ids: [string, string], ms: number): Promise<void>;
  close(): void;
}

/** A connection of our own in subscriber mode. */
export interface Subscriber {
  close(): Promise<void>;
}

/** The user's client, seen through what the outbox does with it. */
export interface RedisLink {
  /** Runs the outbox script (EVALSHA, EVAL after NOSCRIPT), bounded by the timeout and `signal`. */
  run(keys: string[], args: string[], signal?: AbortSignal): Promise<unknown>;
  blocker(onError: (err: Error) => void): Promise<Blocker>;
  /**
   * Subscribes; `onReady` runs after every (re)connection, so missed messages can be made up for. When `closing`
   * fires — even while still connecting to a Redis that does not answer — the connection is dropped at once and the
   * promise rejects.
   */
  subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onReady: () => void,
    onError: (err: Error) => void,
    closing: AbortSignal,
  ): Promise<Subscriber>;
}

interface Events {
  on(event: string, listener: (...args: any[]) => void): unknown;
}
interface IoDuplicate extends Events {
  xread(...args: (string | number)[]): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
}
interface NodeDuplicate extends Events {
  connect(): Promise<unknown>;
  xRead(streams: { key: string; id: string }[], options: { BLOCK: number; COUNT: number }): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  close?(): Promise<void>;
  quit?(): Promise<unknown>;
  destroy?(): void;
  disconnect?(): Promise<void>;
}

export function isRedisClient(value: unknown): value is OutboxRedis {
  const c = value as Partial<IoRedisLike & NodeRedisLike> | undefined;
  return (
    typeof c === 'object' &&
    c !== null &&
    (typeof c.evalsha === 'function' || typeof c.evalSha === 'function') &&
    typeof c.duplicate === 'function' &&
    typeof c.once === 'function'
  );
}

export function linkRedis(client: OutboxRedis, timeoutMs: number): RedisLink {
  const c = client as Partial<IoRedisLike & NodeRedisLike>;
  const node = typeof c.evalSha === 'function';

  const evaluate = (sha: boolean, keys: string[], args: string[]): Promise<unknown> => {
    if (node) {
      const n = client as NodeRedisLike;
      return sha ? n.evalSha(OUTBOX_SHA, { keys, arguments: args }) : n.eval(OUTBOX_SCRIPT, { keys, arguments: args });
    }
    const io = client as IoRedisLike;
    return sha ? io.evalsha(OUTBOX_SHA, keys.length, ...keys, ...args) : io.eval(OUTBOX_SCRIPT, keys.length, ...keys, ...args);
  };

  /** true: ready; false: wait for 'ready'; undefined: unknown (a cluster), just send. */
  const ready = (): boolean | undefined => {
    if (node) return typeof c.isReady === 'boolean' ? c.isReady : undefined;
    // 'wait' is a lazyConnect client that connects on its first command
    return typeof c.status === 'string' ? c.status === 'ready' || c.status === 'wait' : undefined;
  };

  async function run(keys: string[], args: string[], signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) throw new AbortError({ cause: signal.reason });
    // one controller for both the deadline and the caller's signal (AbortSignal.any would keep a dependant of
    // a long-lived signal per call)
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), timeoutMs);
    const onAbort = () => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) stop.abort();
    try {
      if (ready() === false) await whenReady(stop.signal);
      return await until(
        evaluate(true, keys, args).catch((err: unknown) => {
          // first use on this server, or after SCRIPT FLUSH / a restart: load it by sending it whole
          if (String((err as Error)?.message).startsWith('NOSCRIPT')) return evaluate(false, keys, args);
          throw err;
        }),
        stop.signal,
        `no answer within ${timeoutMs} ms`,
      );
    } catch (err) {
      if (signal?.aborted) throw new AbortError({ cause: signal.reason });
      throw err instanceof OutboxRedisError ? err : new OutboxRedisError(describe(err), { cause: err });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  // one 'ready' listener however many calls wait for the connection
  let connected: Promise<void> | undefined;
  function whenReady(signal: AbortSignal): Promise<void> {
    connected ??= new Promise<void>((resolve) => {
      c.once!('ready', () => {
        connected = undefined;
        resolve();
      });
    });
    return until(connected, signal, `not connected (waited ${timeoutMs} ms)`);
  }

  /** Drops a connection of ours at once (no QUIT), whatever state it is in. */
  function drop(dup: IoDuplicate | NodeDuplicate): void {
    try {
      if (!node) return (dup as IoDuplicate).disconnect();
      const n = dup as NodeDuplicate;
      if (n.destroy) n.destroy();
      else void n.disconnect?.().catch(() => {});
    } catch {
      // already closed
    }
  }

  async function duplicate(onError: (err: Error) => void): Promise<IoDuplicate | NodeDuplicate> {
    const dup = (client as { duplicate(): IoDuplicate | NodeDuplicate }).duplicate();
    // without a listener the client library would print (or throw) connection errors itself
    dup.on('error', onError);
    if (node) await (dup as NodeDuplicate).connect();
    return dup;
  }

  return {
    run,
    async blocker(onError) {
      const dup = await duplicate(onError);
      return {
        async wait(keys, ids, ms) {
          const block = Math.max(1, Math.ceil(ms));
          if (node) {
            const n = dup as NodeDuplicate;
            await n.xRead(
              keys.map((key, i) => ({ key, id: ids[i]! })),
              { BLOCK: block, COUNT: 1 },
            );
          } else {
            await (dup as IoDuplicate).xread('COUNT', 1, 'BLOCK', block, 'STREAMS', ...keys, ...ids);
          }
        },
        close() {
          drop(dup);
        },
      };
    },
    async subscribe(channel, onMessage, onReady, onError, closing) {
      const dup = (client as { duplicate(): IoDuplicate | NodeDuplicate }).duplicate();
      dup.on('error', onError);
      // connecting and subscribing wait in the client's queue while Redis is unreachable: closing must not
      const dropIt = () => drop(dup);
      closing.addEventListener('abort', dropIt, { once: true });
      let first = true;
      dup.on('ready', () => {
        if (first) first = false;
        else onReady();
      });
      // ioredis leaves a command queued while reconnecting pending forever after disconnect(): stop listening to it
      const closed = new Promise<never>((_, reject) => {
        const onClose = () => reject(new OutboxRedisError('outbox closed while subscribing'));
        if (closing.aborted) onClose();
        else closing.addEventListener('abort', onClose, { once: true });
      });
      closed.catch(() => {});
      try {
        if (node) {
          await Promise.race([(dup as NodeDuplicate).connect(), closed]);
          await Promise.race([(dup as NodeDuplicate).subscribe(channel, onMessage), closed]);
        } else {
          const io = dup as IoDuplicate;
          io.on('message', (_channel: string, message: string) => onMessage(message));
          await Promise.race([io.subscribe(channel), closed]);
        }
        first = false;
        if (closing.aborted) throw new OutboxRedisError('outbox closed while subscribing');
      } catch (err) {
        closing.removeEventListener('abort', dropIt);
        dropIt();
        throw err;
      }
      return {
        async close() {
          closing.removeEventListener('abort', dropIt);
          // a polite QUIT, but never waiting behind commands queued for a server that went away
          const quit = node ? ((dup as NodeDuplicate).close?.() ?? (dup as NodeDuplicate).quit?.()) : (dup as IoDuplicate).quit();
          const bounded = await Promise.race([Promise.resolve(quit).then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 1_000).unref())]);
          if (!bounded) dropIt();
        },
      };
    },
  };
}

/** `promise`, or an OutboxRedisError with `message` when `signal` fires first. */
function until<T>(promise: Promise<T>, signal: AbortSignal, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(new OutboxRedisError(message));
    const onAbort = () => reject(new OutboxRedisError(message));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
