// One replica for rate-limit-limiter.bench.mjs: a broadcast client calling client.broadcast() directly (no queue),
// `inFlight` calls at a time, with a limiter on a RedisStore shared with its siblings. The limiter is this
// repository's ("after") or the one rebuilt from git ("before"; see before-limiter.mjs).
//   parent → { limiterModule, variant, url, redisUrl, key, rate, model, inFlight, durationMs, warmUp, sdkAppId, secretKey, admin }
//   child  → 'ready'; parent → 'go'; child → { sent, failed, throttled }
import { createBroadcastClient, text } from '@tim-broadcast/core';
import { ioredis } from './redis.mjs';

const { Redis } = ioredis;

process.once('message', async (job) => {
  const { createRateLimiter, RedisStore } = await import(job.limiterModule);
  const redis = new Redis(job.redisUrl);
  const store = new RedisStore({ client: redis });
  const limiter =
    job.variant === 'before'
      ? createRateLimiter({ store, ratePerSecond: job.rate, key: job.key })
      : createRateLimiter({ store, ratePerSecond: job.rate, key: job.key, model: job.model, logger: false });
  let throttled = 0;
  const client = createBroadcastClient({
    sdkAppId: job.sdkAppId,
    secretKey: job.secretKey,
    identifier: job.admin,
    baseUrl: job.url,
    limiter,
    hooks: { onResponse: (e) => e.errorCode === 10023 && throttled++ },
  });
  await new Promise((resolve) => redis.once('ready', resolve));
  if (job.warmUp) await client.broadcast({ MsgBody: [text('warm-up')] }).catch(() => {}); // sign once, open the connection
  process.send('ready');
  await new Promise((resolve) => process.once('message', resolve));

  let sent = 0;
  let failed = 0;
  const until = Date.now() + job.durationMs;
  const loop = async () => {
    for (let i = 0; Date.now() < until; i++) {
      await client.broadcast({ MsgBody: [text(`bench ${process.pid} ${i}`)] }).then(
        () => sent++,
        () => failed++,
      );
    }
  };
  await Promise.all(Array.from({ length: job.inFlight }, loop));
  await client.close();
  await limiter.close();
  await redis.quit();
  process.send({ sent, failed, throttled });
  process.disconnect();
});
