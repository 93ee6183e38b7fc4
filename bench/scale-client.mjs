// One process of the scale bench (bench/scale.bench.mjs): a broadcast registry of N apps, each kept busy at its
// 1 call/s (two sends outstanding per app), against the emulator in another process and one Redis. Reports memory
// (idle: every app made and used once; busy: mid-run), CPU over the measured window, and the event loop's delay.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { text } from '@tim-broadcast/core';
import { createBroadcastRegistry } from '@tim-broadcast/rate-limit';

const memory = () => {
  globalThis.gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
};
const ask = (message) =>
  new Promise((resolve) => {
    process.once('message', resolve);
    process.send(message);
  });

process.once('message', async ({ ids, emulatorUrl, redisUrl, keyPrefix, warmUpMs, durationMs }) => {
  const message = { MsgBody: [text('scale bench broadcast')] };
  const m0 = memory();
  const logged = { warn: 0, error: 0 };
  const registry = createBroadcastRegistry({
    credentials: async (sdkAppId) => ({ secretKey: `scale-secret-${sdkAppId}`, identifier: 'administrator', baseUrl: emulatorUrl }),
    redis: redisUrl,
    limiterKey: (sdkAppId) => `${keyPrefix}:${sdkAppId}`,
    maxApps: ids.length,
    logger: { warn: () => logged.warn++, error: () => logged.error++ },
  });

  // idle: every app made, used once, and done
  await Promise.all(ids.map((id) => registry.send(id, message)));
  await sleep(1_500);
  const idle = memory();

  let running = true;
  let ok = 0;
  const failures = {};
  const loop = async (id) => {
    while (running) {
      try {
        await registry.send(id, message);
        ok++;
      } catch (err) {
        failures[err.name] = (failures[err.name] ?? 0) + 1;
        await sleep(100);
      }
    }
  };
  const loops = ids.flatMap((id) => [loop(id), loop(id)]);
  await sleep(warmUpMs);

  const delay = monitorEventLoopDelay({ resolution: 10 });
  await ask({ type: 'start', at: Date.now() });
  const cpu0 = process.cpuUsage();
  const ok0 = ok;
  delay.enable();
  await sleep(durationMs * 0.8);
  const busy = memory();
  await sleep(durationMs * 0.2);
  delay.disable();
  const cpu = process.cpuUsage(cpu0);
  const resolved = ok - ok0;
  await ask({ type: 'end', at: Date.now() });

  running = false;
  await Promise.all(loops);
  const closing = performance.now();
  await registry.close();
  process.send({
    type: 'done',
    m0,
    idle,
    busy,
    cpuMicros: cpu.user + cpu.system,
    resolved,
    failures,
    logged,
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    loopDelayMaxMs: delay.max / 1e6,
    closeMs: performance.now() - closing,
  });
  // nothing else holds the process: with the IPC channel gone it exits (and writes its CPU profile, if asked to)
  process.disconnect();
});
