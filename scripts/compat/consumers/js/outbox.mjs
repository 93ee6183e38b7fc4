import { createRequire } from 'node:module';
import { startEmulator } from '@tim-broadcast/emulator';
import { createBroadcastClient, text, TimBroadcastError, ValidationError } from '@tim-broadcast/core';
import { createRateLimiter, RedisStore, httpErrorResponse } from '@tim-broadcast/rate-limit';
import * as outboxModule from '@tim-broadcast/outbox';
import { createOutbox, OutboxNotFoundError } from '@tim-broadcast/outbox';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { main, sameExports } from './harness.cjs';
import scenario from './scenarios/outbox.cjs';

const require = createRequire(import.meta.url);

async function connectRedis(kind, url) {
  if (kind === 'ioredis') {
    const client = new Redis(url);
    return { client, ping: () => client.ping(), quit: () => client.quit() };
  }
  const client = await createClient({ url }).connect();
  return { client, ping: () => client.ping(), quit: () => client.quit() };
}

main(`outbox (${process.env.COMPAT_REDIS_CLIENT})`, async () => {
  sameExports('@tim-broadcast/outbox', outboxModule, require('@tim-broadcast/outbox'));
  await scenario({ startEmulator, createBroadcastClient, text, TimBroadcastError, ValidationError, createRateLimiter, RedisStore, httpErrorResponse, createOutbox, OutboxNotFoundError, connectRedis });
});
