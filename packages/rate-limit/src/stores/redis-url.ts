import { createRequire } from 'node:module';
import { ValidationError } from '@tim-broadcast/core';
import { RedisStore, type IoRedisLike } from './redis';
import { closeIoRedis } from './redis-watch';
import type { RateLimitStore } from './store';

interface OwnedIoRedis extends IoRedisLike {
  on(event: 'error', listener: (err: Error) => void): unknown;
  once(event: 'ready' | 'end', listener: () => void): unknown;
  off(event: 'ready' | 'end', listener: () => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

type IoRedisConstructor = new (url: string, options: object) => OwnedIoRedis;

declare const require: NodeJS.Require | undefined;

/** ioredis, loaded synchronously (it is CommonJS), or undefined when it is not installed. */
function loadIoRedis(): IoRedisConstructor | undefined {
  // CommonJS build: the module's own require; ESM build: one made for this file
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  let mod: { default?: unknown; Redis?: unknown };
  try {
    mod = load('ioredis');
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
  return (mod.Redis ?? mod.default) as IoRedisConstructor;
}

/**
 * A RedisStore on an ioredis client this package creates from a URL (ioredis is an optional peer), and quits on
 * `close()`. Throws a ValidationError naming `path` when ioredis is not installed.
 */
export function redisUrlStore(url: string, path: PropertyKey[]): RateLimitStore & { close(): Promise<void> } {
  const Redis = loadIoRedis();
  if (!Redis) {
    throw new ValidationError('invalid rate-limit options', [
      { path, message: 'a Redis URL needs the optional peer dependency ioredis: install it (npm install ioredis), or pass a Redis client you created' },
    ]);
  }
  const client = new Redis(url, { connectionName: 'tim-broadcast-rate-limit' });
  // failures surface as StoreErrors from the limiter; without a listener ioredis would also print them
  client.on('error', () => {});
  const store = new RedisStore({ client });
  return {
    name: store.name,
    reserve: (key, request) => store.reserve(key, request),
    complete: (key, id, windowMs) => store.complete(key, id, windowMs),
    hold: (key, id, holdMs) => store.hold(key, id, holdMs),
    penalize: (key, ms) => store.penalize(key, ms),
    watch: (key, listener) => store.watch(key, listener),
    async close() {
      await store.close();
      // resolves once the socket is closed, not merely when QUIT is answered
      await closeIoRedis(client, true);
    },
  };
}
