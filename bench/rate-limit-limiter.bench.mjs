// (b) The limiter: 4 processes share one app's limit through Redis, against the emulator set to 5 calls/s,
// each keeping a backlog for 30 s. Counts accepted calls in the 30 s from the first one.
//   ours      accepted calls in that window (and 10023 answers: must be 0)
//   baseline  the theoretical maximum: 5/s × 30 s
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '@tim-broadcast/emulator';

const PROCESSES = 4;
const RATE = 5;
const SECONDS = 30;
const app = { sdkAppId: 1400000001, secretKey: 'bench-rate-limit-secret', admin: 'administrator' };

export default async function run() {
  const emu = await startEmulator({ ...app, ratePerSecond: RATE });
  try {
    const job = {
      ...app,
      url: emu.url,
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      key: `bench:${randomUUID()}`,
      ratePerSecond: RATE,
      durationMs: SECONDS * 1_000 + 2_000,
    };
    const workers = Array.from({ length: PROCESSES }, () =>
      fork(fileURLToPath(new URL('./rate-limit-worker.mjs', import.meta.url)), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    const reports = workers.map((w) => new Promise((resolve, reject) => {
      w.on('message', (m) => typeof m === 'object' && resolve(m));
      w.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    }));
    await Promise.all(workers.map((w) => new Promise((resolve) => { w.once('message', resolve); w.send(job); })));
    for (const w of workers) w.send('go');
    const results = await Promise.all(reports);

    const deliveries = emu.deliveries;
    const start = deliveries[0].at;
    const inWindow = deliveries.filter((d) => d.at < start + SECONDS * 1_000).length;
    const throttled = results.reduce((n, r) => n + r.throttled, 0);
    const rejected = emu.stats.rejected[10023] ?? 0;
    const possible = RATE * SECONDS;
    const sentAt = new Map(results.flatMap((r) => r.requests));
    const latency = deliveries.map((d) => d.at - sentAt.get(d.Random)).filter(Number.isFinite).sort((a, b) => a - b);
    const p99 = latency[Math.floor(latency.length * 0.99)];
    return [
      {
        figure: `calls accepted in ${SECONDS} s, ${PROCESSES} processes on Redis, emulator at ${RATE}/s`,
        ours: inWindow,
        baseline: possible,
        unit: 'calls',
        target: `≥ 95% of ${possible}`,
        pass: inWindow >= 0.95 * possible,
        note: `${emu.stats.accepted} accepted in all; smallest gap ${emu.stats.minGapMs} ms; most in one rolling second ${emu.stats.maxAcceptedInOneSecond}; request→arrival p99 ${p99} ms, max ${latency.at(-1)} ms`,
      },
      {
        figure: '10023 answers (same run)',
        ours: rejected,
        baseline: null,
        unit: 'answers',
        target: '0',
        pass: rejected === 0 && throttled === 0 && results.every((r) => r.failed === 0),
      },
    ];
  } finally {
    await emu.close();
  }
}
