// Many apps in one process: a broadcast registry of 10, 100 and 1,000 apps, each kept busy at its 1 call/s
// (two sends outstanding per app), one Redis, against the emulator serving every app (1 call/s each, strict
// spacing: a call closer than 1 s to the app's previous accepted one is answered 10023). Each size runs in a fresh
// process (bench/scale-client.mjs); the emulator runs in another (bench/emulator-server.mjs), so the figures are
// the registry's own.
//   delivered       calls the emulator accepted per second in the measured window, over N × 1/s
//   CPU per call    process.cpuUsage() of the registry's process over the window / calls delivered in it
//   Redis commands  INFO commandstats delta over the window (commands the process sent; script-internal ones and
//                   the bench's INFO excluded) / calls delivered
//   memory per app  heapUsed and rss over the empty process (after gc), / N: idle (every app made and used once)
//                   and busy (mid-run)
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { round } from './lib.mjs';
import { startRedis } from './redis.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
// SCALE_SIZES=1000 runs one size; SCALE_PROFILE=dir writes a CPU profile of each registry process there
const SIZES = process.env.SCALE_SIZES ? process.env.SCALE_SIZES.split(',').map(Number) : [10, 100, 1_000];
const PROFILE = process.env.SCALE_PROFILE;
const DURATION_MS = QUICK ? 8_000 : 30_000;
const WARM_UP_MS = QUICK ? 3_000 : 5_000;
const FIRST_ID = 1_500_000_000;
const SCRIPT_INTERNAL = new Set(['time', 'get', 'set', 'pexpire', 'zrange', 'zremrangebyscore', 'zadd', 'zcard', 'zscore', 'publish']);

const script = (name) => fileURLToPath(new URL(name, import.meta.url));

function child(name, execArgv = []) {
  return fork(script(name), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
}

function reply(proc) {
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`${proc.spawnfile} exited with ${code}`));
    proc.once('exit', onExit);
    proc.once('message', (msg) => {
      proc.off('exit', onExit);
      resolve(msg);
    });
  });
}

/** Commands the processes sent to Redis so far (INFO commandstats), script-internal ones excluded. */
function commandsSent(redis) {
  let sent = 0;
  for (const [, name, calls] of redis.cli('INFO', 'commandstats').matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!SCRIPT_INTERNAL.has(name) && name !== 'info') sent += Number(calls);
  }
  return sent;
}

async function runSize(n, ids, emulator, redis) {
  const proc = child('scale-client.mjs', ['--expose-gc', ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [])]);
  try {
    proc.send({ ids, emulatorUrl: emulator.url, redisUrl: redis.url, keyPrefix: `bench:scale:${randomUUID()}`, warmUpMs: WARM_UP_MS, durationMs: DURATION_MS });
    const start = await reply(proc);
    const commands0 = commandsSent(redis);
    proc.send('go');
    const end = await reply(proc);
    const commands = commandsSent(redis) - commands0;
    const done = reply(proc);
    proc.send('go');
    const result = await done;
    const exited = proc.exitCode !== null || (await Promise.race([new Promise((resolve) => proc.once('exit', () => resolve(true))), new Promise((resolve) => setTimeout(resolve, 10_000, false))]));
    if (!exited) result.failures.keptAlive = 1; // something still held the process 10 s after close()
    emulator.proc.send({ from: start.at, to: end.at });
    const verdicts = await reply(emulator.proc);
    const seconds = (end.at - start.at) / 1_000;
    return { n, seconds, commands, ...verdicts, ...result };
  } finally {
    if (proc.exitCode === null) proc.kill();
  }
}

export default async function run() {
  const redis = await startRedis();
  const all = [];
  let next = FIRST_ID;
  const idsBySize = SIZES.map((n) => Array.from({ length: n }, () => next++));
  for (const ids of idsBySize) for (const sdkAppId of ids) all.push({ sdkAppId, secretKey: `scale-secret-${sdkAppId}`, admin: 'administrator' });
  const proc = child('emulator-server.mjs');
  const rows = [];
  try {
    proc.send({ apps: all, ratePerSecond: 1, rateModel: 'spacing' });
    const { url } = await reply(proc);
    const emulator = { url, proc };
    const results = [];
    for (const [i, n] of SIZES.entries()) results.push(await runSize(n, idsBySize[i], emulator, redis));

    for (const r of results) {
      const delivered = r.accepted / r.seconds;
      const throttled = r.refused['10023'] ?? 0;
      const otherRefusals = Object.entries(r.refused).filter(([code]) => code !== '10023');
      rows.push({
        figure: `delivered calls per second, ${r.n.toLocaleString('en-US')} apps at 1/s each, one process, one Redis (10023 answers)`,
        ours: round(delivered, 1),
        baseline: r.n,
        unit: 'calls/s',
        target: '≥ 0.95 × N/s, no 10023',
        pass: delivered >= 0.95 * r.n && throttled === 0,
        note:
          `${r.n} apps: ${r.accepted} accepted in ${round(r.seconds, 1)} s, 10023: ${throttled}` +
          `${otherRefusals.length ? `, other refusals ${JSON.stringify(Object.fromEntries(otherRefusals))}` : ''}` +
          `${Object.keys(r.failures).length ? `, failed sends ${JSON.stringify(r.failures)}` : ''}; ` +
          `event-loop delay p99 ${round(r.loopDelayP99Ms, 1)} ms (max ${round(r.loopDelayMaxMs, 1)} ms); close() took ${Math.round(r.closeMs)} ms`,
      });
    }
    const perSize = (label, unit, value, digits = 1) =>
      results.map((r) => ({ figure: `${label}, ${r.n.toLocaleString('en-US')} apps`, ours: round(value(r), digits), baseline: null, unit, target: 'reported', pass: true }));
    rows.push(
      ...perSize('CPU per delivered call (registry process)', 'µs', (r) => r.cpuMicros / r.accepted),
      ...perSize('Redis commands per delivered call', 'commands', (r) => r.commands / r.accepted, 2),
      ...perSize('heap per app, idle', 'KB', (r) => (r.idle.heapUsed - r.m0.heapUsed) / r.n / 1024),
      ...perSize('rss per app, idle', 'KB', (r) => (r.idle.rss - r.m0.rss) / r.n / 1024),
      ...perSize('heap per app, busy', 'KB', (r) => (r.busy.heapUsed - r.m0.heapUsed) / r.n / 1024),
      ...perSize('rss per app, busy', 'KB', (r) => (r.busy.rss - r.m0.rss) / r.n / 1024),
    );
    // per app, above: shared parts (pools, clients, code loaded on first use) divided among N; here, what one more app adds
    for (let i = 1; i < results.length; i++) {
      const [a, b] = [results[i - 1], results[i]];
      const slope = (phase, field) => (b[phase][field] - b.m0[field] - (a[phase][field] - a.m0[field])) / (b.n - a.n) / 1024;
      const span = `${a.n.toLocaleString('en-US')} → ${b.n.toLocaleString('en-US')} apps`;
      for (const [phase, field, label] of [
        ['idle', 'heapUsed', 'heap'],
        ['idle', 'rss', 'rss'],
        ['busy', 'heapUsed', 'heap'],
        ['busy', 'rss', 'rss'],
      ]) {
        rows.push({ figure: `${label} per additional app, ${phase}, ${span}`, ours: round(slope(phase, field), 1), baseline: null, unit: 'KB', target: 'reported', pass: true });
      }
    }
  } finally {
    if (proc.exitCode === null) proc.kill();
    await redis.close();
  }
  return rows;
}
