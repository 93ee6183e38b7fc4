const { main } = require('./harness.cjs');
const { startEmulator } = require('@tim-broadcast/emulator');
const { createBroadcastClient, text, TimBroadcastError, ValidationError } = require('@tim-broadcast/core');
const { createRateLimiter, RedisStore, httpErrorResponse } = require('@tim-broadcast/rate-limit');
const { createOutbox, OutboxNotFoundError } = require('@tim-broadcast/outbox');
const Redis = require('ioredis');
const { createClient } = require('redis');
const scenario = require('./scenarios/outbox.cjs');

async function connectRedis(kind, url) {
  if (kind === 'ioredis') {
    const client = new Redis(url);
    return { client, ping: () => client.ping(), quit: () => client.quit() };
  }
  const client = await createClient({ url }).connect();
  return { client, ping: () => client.ping(), quit: () => client.quit() };
}

main(`outbox (${process.env.COMPAT_REDIS_CLIENT})`, () =>
  scenario({ startEmulator, createBroadcastClient, text, TimBroadcastError, ValidationError, createRateLimiter, RedisStore, httpErrorResponse, createOutbox, OutboxNotFoundError, connectRedis }),
);
