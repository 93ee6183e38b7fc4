// One sender process for rate-limit-limiter.bench.mjs: a Broadcaster (client + limiter on Redis by URL + queue)
// that keeps a small backlog for `durationMs`, then drains. Reports 10023 answers and when each request left.
//   parent → { url, redisUrl, key, sdkAppId, secretKey, admin, ratePerSecond, durationMs }
//   child  → 'ready'; parent → 'go'; child → { sent, failed, throttled, requests: [[Random, ms], ...] }
import { text } from '@tim-broadcast/core';
import { createBroadcaster } from '@tim-broadcast/rate-limit';

process.once('message', async (job) => {
  let throttled = 0;
  const requests = [];
  const broadcaster = createBroadcaster({
    sdkAppId: job.sdkAppId,
    secretKey: job.secretKey,
    identifier: job.admin,
    baseUrl: job.url,
    rateLimit: { ratePerSecond: job.ratePerSecond, redis: job.redisUrl, key: job.key },
    maxQueued: 100,
    hooks: {
      onRequest: (e) => requests.push([e.random, Date.now()]),
      onResponse: (e) => e.errorCode === 10023 && throttled++,
    },
  });
  process.send('ready');
  await new Promise((resolve) => process.once('message', resolve));

  let sent = 0;
  let failed = 0;
  const pending = [];
  const until = Date.now() + job.durationMs;
  let i = 0;
  while (Date.now() < until) {
    while (broadcaster.queue.size < 2) pending.push(broadcaster.send({ MsgBody: [text(`bench ${process.pid} ${i++}`)] }).then(() => sent++, () => failed++));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.all(pending);
  await broadcaster.close();
  process.send({ sent, failed, throttled, requests });
  process.disconnect();
});
