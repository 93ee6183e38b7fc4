// The durable outbox (@tim-broadcast/outbox) on a real Redis: a throwaway redis-server of its own (bench/redis.mjs).
//   (a) enqueue throughput: outbox.enqueue (validation + one Lua step: record and stream entry)
//       vs a raw XADD of the same request JSON, same concurrency, interleaved rounds in the same run
//   (b) Redis memory per queued broadcast (used_memory before/after N enqueues, and MEMORY USAGE of each key),
//       vs the raw XADD stream of the same requests; and per finished record kept for `retentionMs`
//   (c) packing: the same 2,000 mixed broadcasts sent through the outbox (one deliverer) and through the in-memory
//       coalescing queue: the number of calls must be equal (one packing function, not a copy)
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { createBroadcastClient, custom, text } from '@tim-broadcast/core';
import { startEmulator } from '@tim-broadcast/emulator';
import { createBroadcastQueue } from '@tim-broadcast/rate-limit';
import { interleaved, round, runConcurrent } from './lib.mjs';
import { startRedis } from './redis.mjs';
import { mixedMessages } from './messages.mjs';

// the outbox and ioredis are resolved from the outbox package (its dist and its dev dependency)
const requireFromOutbox = createRequire(new URL('../packages/outbox/package.json', import.meta.url));
const { createOutbox } = await import(new URL('../packages/outbox/dist/index.mjs', import.meta.url).href);
const { Redis } = requireFromOutbox('ioredis');

const app = { sdkAppId: 1400000001, secretKey: 'bench-outbox-secret', admin: 'administrator' };
const ENQUEUES = 2_000;
const CONCURRENCY = 16;
const MEMORY_N = 5_000;
const PACK_N = 2_000;

const clientFor = (url) => createBroadcastClient({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: app.admin, baseUrl: url, retry: false });

/** A typical announcement: a text and a small custom element (~120 bytes of MsgBody). */
const announcement = (i) => ({ MsgBody: [text(`Doors open in ${i % 60} minutes at gate ${i % 12}`), custom({ Data: JSON.stringify({ type: 'countdown', id: i }) })] });

async function enqueueThroughput(redis, emuUrl) {
  const outbox = createOutbox({ redis, client: clientFor(emuUrl), name: `bench-enq-${randomUUID()}` });
  const rawKey = `bench:raw:${randomUUID()}`;
  const times = await interleaved(
    {
      outbox: () => runConcurrent(ENQUEUES, CONCURRENCY, (i) => outbox.enqueue(announcement(i))),
      xadd: () => runConcurrent(ENQUEUES, CONCURRENCY, (i) => redis.xadd(rawKey, '*', 'r', JSON.stringify(announcement(i)))),
    },
    5,
  );
  await outbox.close();
  await redis.del(rawKey, ...(await redis.keys(`tim-broadcast:outbox:{${outbox.name}}:*`)));
  return { ours: (ENQUEUES / times.outbox) * 1_000, baseline: (ENQUEUES / times.xadd) * 1_000 };
}

async function usedMemory(redis) {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

async function memoryPerBroadcast(redis, emuUrl) {
  const name = `bench-mem-${randomUUID()}`;
  const outbox = createOutbox({ redis, client: clientFor(emuUrl), name });
  const rawKey = `bench:rawmem:${randomUUID()}`;
  const keysOf = async () => redis.keys(`tim-broadcast:outbox:{${name}}:*`);
  const usage = async (keys) => {
    let total = 0;
    for (const key of keys) total += Number(await redis.memory('USAGE', key, 'SAMPLES', '0'));
    return total;
  };

  const before = await usedMemory(redis);
  await runConcurrent(MEMORY_N, CONCURRENCY, (i) => outbox.enqueue(announcement(i)));
  const after = await usedMemory(redis);
  const queuedKeys = await keysOf();
  const queuedUsage = await usage(queuedKeys);
  const perKey = {};
  for (const key of queuedKeys) perKey[key.slice(key.lastIndexOf(':') + 1)] = Math.round(Number(await redis.memory('USAGE', key, 'SAMPLES', '0')) / MEMORY_N);

  const rawBefore = await usedMemory(redis);
  await runConcurrent(MEMORY_N, CONCURRENCY, (i) => redis.xadd(rawKey, '*', 'r', JSON.stringify(announcement(i))));
  const rawAfter = await usedMemory(redis);
  const rawUsage = await usage([rawKey]);

  // deliver them all (no rate limit, merged calls), then measure what the finished records keep for retentionMs
  const emu = await startEmulator({ ...app, ratePerSecond: Infinity, maxDeliveries: 10 });
  const deliverer = createOutbox({ redis, client: clientFor(emu.url), name, coalesce: true });
  await deliverer.start();
  const deadline = Date.now() + 120_000;
  while ((await deliverer.health()).backlog > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await deliverer.close();
  await outbox.close();
  await emu.close();
  const finishedKeys = await keysOf();
  const finishedUsage = await usage(finishedKeys);
  const finishedPerKey = {};
  for (const key of finishedKeys) finishedPerKey[key.slice(key.lastIndexOf(':') + 1)] = Math.round(Number(await redis.memory('USAGE', key, 'SAMPLES', '0')) / MEMORY_N);

  await redis.del(rawKey, ...(await keysOf()));
  const bytesPerJson = JSON.stringify(announcement(1)).length;
  return {
    info: (after - before) / MEMORY_N,
    usage: queuedUsage / MEMORY_N,
    perKey,
    rawInfo: (rawAfter - rawBefore) / MEMORY_N,
    rawUsage: rawUsage / MEMORY_N,
    finished: finishedUsage / MEMORY_N,
    finishedPerKey,
    bytesPerJson,
  };
}


async function packing(redis, requests) {
  const emu = await startEmulator({ ...app, ratePerSecond: Infinity, maxDeliveries: PACK_N });
  try {
    const client = clientFor(emu.url);
    const queue = createBroadcastQueue({ client, coalesce: true, maxQueued: PACK_N });
    await Promise.all(requests.map((r) => queue.send(r)));
    await queue.close();
    const queueCalls = emu.deliveries.length;

    emu.reset();
    const outbox = createOutbox({ redis, client, name: `bench-pack-${randomUUID()}`, coalesce: true });
    const ids = [];
    for (const r of requests) ids.push((await outbox.enqueue(r)).id);
    await outbox.start();
    await Promise.all(ids.map((id) => outbox.wait(id)));
    const outboxCalls = emu.deliveries.length;
    const inOrder = emu.deliveries.flatMap((d) => d.body.MsgBody.map((el) => Number(String(el.MsgContent.Text ?? el.MsgContent.Data).split(':')[0])));
    await outbox.close();
    await client.close();
    await redis.del(...(await redis.keys(`tim-broadcast:outbox:{${outbox.name}}:*`)));
    return { queueCalls, outboxCalls, ordered: inOrder.every((n, i) => n === i) };
  } finally {
    await emu.close();
  }
}

export default async function run() {
  const server = await startRedis();
  const redis = new Redis(server.url);
  const emu = await startEmulator({ ...app, ratePerSecond: Infinity });
  try {
    const rows = [];
    const enq = await enqueueThroughput(redis, emu.url);
    rows.push({
      figure: `enqueue throughput, ${CONCURRENCY} in flight (vs raw XADD of the same JSON)`,
      ours: round(enq.ours, 0),
      baseline: round(enq.baseline, 0),
      unit: 'ops/s',
      target: '≥ 25% of raw XADD',
      pass: enq.ours >= 0.25 * enq.baseline,
      note: `${ENQUEUES} enqueues per round, median of 5 interleaved rounds; ours validates with core's schema (the client's check) and runs one Lua step (record + stream entry)`,
    });

    const mem = await memoryPerBroadcast(redis, emu.url);
    rows.push({
      figure: `Redis memory per queued broadcast (${mem.bytesPerJson} B request JSON), MEMORY USAGE of the outbox keys`,
      ours: round(mem.usage, 0),
      baseline: round(mem.rawUsage, 0),
      unit: 'B',
      target: '≤ 2.5× the raw stream entry',
      pass: mem.usage <= 2.5 * mem.rawUsage,
      note: `used_memory delta: ${round(mem.info, 0)} B per broadcast (raw XADD ${round(mem.rawInfo, 0)} B); by key: ${JSON.stringify(mem.perKey)}; ${MEMORY_N} queued`,
    });
    rows.push({
      figure: 'Redis memory per finished broadcast kept for retentionMs (status readable)',
      ours: round(mem.finished, 0),
      baseline: null,
      unit: 'B',
      target: '≤ 300 B; 0 after retentionMs',
      pass: mem.finished <= 300,
      note: `by key: ${JSON.stringify(mem.finishedPerKey)}; the stream entry is acknowledged and deleted on delivery; the record (≈ 110 B of JSON) and its clean-up index entry stay until retentionMs`,
    });

    for (const [label, share] of [['text only', 0], ['1 in 6 custom', 1 / 6]]) {
      const p = await packing(redis, mixedMessages(PACK_N, share, 7));
      rows.push({
        figure: `calls for ${PACK_N} broadcasts of 20–3,000 B, ${label}: outbox vs in-memory queue`,
        ours: p.outboxCalls,
        baseline: p.queueCalls,
        unit: 'calls',
        target: '= the in-memory queue, in order',
        pass: p.outboxCalls === p.queueCalls && p.ordered,
        note: `one deliverer, no rate limit; delivered in enqueue order: ${p.ordered}`,
      });
    }
    return rows;
  } finally {
    await emu.close();
    redis.disconnect();
    await server.close();
  }
}
