const { main } = require('./harness.cjs');
const { startEmulator } = require('@tim-broadcast/emulator');
const { createBroadcastClient, text } = require('@tim-broadcast/core');
const { createRateLimiter, RedisStore, MemoryStore, createBroadcastQueue, createBroadcaster } = require('@tim-broadcast/rate-limit');
const Redis = require('ioredis');
const { createClient } = require('redis');
const scenario = require('./scenarios/rate-limit.cjs');

async function connectRedis(kind, url) {
  if (kind === 'ioredis') {
    const client = new Redis(url);
    return { client, ping: () => client.ping(), quit: () => client.quit() };
  }
  const client = await createClient({ url }).connect();
  return { client, ping: () => client.ping(), quit: () => client.quit() };
}

main(`rate-limit (${process.env.COMPAT_REDIS_CLIENT})`, () =>
  scenario({ startEmulator, createBroadcastClient, text, createRateLimiter, RedisStore, MemoryStore, createBroadcastQueue, createBroadcaster, connectRedis }),
);
