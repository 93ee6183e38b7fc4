import { StoreError } from '../errors';
import { RedisStore, type IoRedisLike } from './redis';
import type { RateLimitStore } from './store';

interface OwnedIoRedis extends IoRedisLike {
  on(event: 'error', listener: (err: Error) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/**
 * A RedisStore on an ioredis client this package creates from a URL (ioredis is an optional peer, loaded on
 * `connect()`), and quits on `close()`.
 */
export function redisUrlStore(url: string): RateLimitStore & { connect(): void; close(): Promise<void> } {
  let ready: Promise<{ client: OwnedIoRedis; store: RedisStore }> | undefined;
  const connect = () =>
    (ready ??= import('ioredis').then(
      (mod) => {
        const Redis = ((mod as { default?: unknown }).default ?? (mod as { Redis?: unknown }).Redis) as new (url: string, options: object) => OwnedIoRedis;
        const client = new Redis(url, { connectionName: 'tim-broadcast-rate-limit' });
        // failures surface as StoreErrors from the limiter; without a listener ioredis would also print them
        client.on('error', () => {});
        return { client, store: new RedisStore({ client }) };
      },
      (err) => {
        throw new StoreError('redis', 'rateLimit.redis is a URL, which needs the optional dependency ioredis: install it, or pass a client', { cause: err });
      },
    ));
  return {
    name: 'redis',
    connect() {
      // starts connecting now; a failure is reported by the next reserve()/penalize(), not as an unhandled rejection
      connect().catch(() => {});
    },
    async reserve(key, request) {
      return (await connect()).store.reserve(key, request);
    },
    async complete(key, id, windowMs) {
      return (await connect()).store.complete(key, id, windowMs);
    },
    async penalize(key, ms) {
      return (await connect()).store.penalize(key, ms);
    },
    async close() {
      if (!ready) return;
      const { client } = await ready.catch(() => ({ client: undefined }));
      if (!client) return;
      await client.quit().catch(() => client.disconnect());
    },
  };
}
