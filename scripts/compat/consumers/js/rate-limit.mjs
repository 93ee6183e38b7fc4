import { createRequire } from 'node:module';
import { startEmulator } from '@tim-broadcast/emulator';
import { createBroadcastClient, text } from '@tim-broadcast/core';
import * as rateLimit from '@tim-broadcast/rate-limit';
import { createRateLimiter, RedisStore, MemoryStore, createBroadcastQueue, createBroadcaster } from '@tim-broadcast/rate-limit';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { main, sameExports } from './harness.cjs';
import scenario from './scenarios/rate-limit.cjs';

const require = createRequire(import.meta.url);

async function connectRedis(kind, url) {
  if (kind === 'ioredis') {
    const client = new Redis(url);
    return { client, ping: () => client.ping(), quit: () => client.quit() };
  }
  const client = await createClient({ url }).connect();
  return { client, ping: () => client.ping(), quit: () => client.quit() };
}

main(`rate-limit (${process.env.COMPAT_REDIS_CLIENT})`, async () => {
  sameExports('@tim-broadcast/rate-limit', rateLimit, require('@tim-broadcast/rate-limit'));
  await scenario({ startEmulator, createBroadcastClient, text, createRateLimiter, RedisStore, MemoryStore, createBroadcastQueue, createBroadcaster, connectRedis });
});
