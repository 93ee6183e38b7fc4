// The limiter, before and after issue 13, measured in the same run against the same baselines.
//   "before": packages/rate-limit at BEFORE_REF, rebuilt from git (bench/before-limiter.mjs); "after": this tree's dist.
// Rows:
//   use of the rate  = calls per second the server accepted / calls per second it allows, replicas calling client.broadcast() directly
//                      against a strict server (bench/strict-server.mjs), idle and with every core kept busy;
//   Redis commands   = commands the processes sent (INFO commandstats, script-internal calls excluded) per call
//                      delivered, 4 / 8 / 16 replicas at 1 call/s;
//   added latency    = one idle call with a limiter (cached signature) minus the same call without one.
// It starts its own redis-server (bench/redis.mjs) and says so if there is none to start.
import { fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createBroadcastClient, text } from '@tim-broadcast/core';
import { BEFORE_MODULE, BEFORE_REF, buildBeforeLimiter } from './before-limiter.mjs';
import { median, round, startMinimalServer } from './lib.mjs';
import { startRedis } from './redis.mjs';
import { ioredis } from './redis.mjs';

const { Redis } = ioredis;

const AFTER_MODULE = fileURLToPath(new URL('../packages/rate-limit/dist/index.mjs', import.meta.url));
const REPLICA = fileURLToPath(new URL('./limiter-replica.mjs', import.meta.url));
const SERVER = fileURLToPath(new URL('./strict-server.mjs', import.meta.url));
const app = { sdkAppId: 1400000001, secretKey: 'bench-rate-limit-secret', admin: 'administrator' };
const MODULES = { before: BEFORE_MODULE, after: AFTER_MODULE };
/** Commands the GCRA scripts run inside Redis (not sent by a process). */
const SCRIPT_INTERNAL = new Set(['time', 'get', 'set', 'pexpire', 'zrange', 'zremrangebyscore', 'zadd', 'zcard', 'zscore', 'publish']);
const QUICK = process.env.BENCH_QUICK === '1';

function message(child) {
  return new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

async function startServer(options) {
  const child = fork(SERVER, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.send(options);
  const { url } = await message(child);
  return {
    url,
    async report() {
      child.send('report');
      return message(child);
    },
    async reset() {
      child.send('reset');
      await message(child);
    },
    close: () => new Promise((resolve) => (child.once('exit', resolve), child.kill())),
  };
}

function busyCores() {
  return cpus().map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

/** R replicas calling directly for `durationMs` against a fresh server; returns the server's verdicts and the replicas' reports. */
async function replicas({ variant, count, rate, delayMs, mode = 'spacing', model = mode, durationMs, busy = false, inFlight = 2, warmUp = true, redis, beforeGo }) {
  const server = await startServer({ rate, delayMs, mode });
  const children = Array.from({ length: count }, () => fork(REPLICA, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const loops = [];
  try {
    const key = `bench:${randomUUID()}`;
    const ready = children.map((child) => message(child));
    for (const child of children) {
      child.send({ ...app, limiterModule: MODULES[variant], variant, url: server.url, redisUrl: redis.url, key, rate, model, inFlight, durationMs, warmUp });
    }
    await Promise.all(ready);
    await server.reset();
    await beforeGo?.();
    if (busy) loops.push(...busyCores());
    const reports = children.map((child) => message(child));
    for (const child of children) child.send('go');
    const results = await Promise.all(reports);
    const verdicts = await server.report();
    return { ...verdicts, results };
  } finally {
    for (const loop of loops) loop.kill('SIGKILL');
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await server.close();
  }
}

/**
 * Calls per second the server accepted over what it allows, in the first `windowMs` from the first accepted call:
 * (n − 1) calls between the first and the last of the n in the window (no fencepost bonus for the first one).
 */
function use(accepted, rate, windowMs) {
  const inWindow = accepted.filter((t) => t < accepted[0] + windowMs);
  if (inWindow.length < 2) return 0;
  return (inWindow.length - 1) / ((inWindow.at(-1) - inWindow[0]) / 1_000) / rate;
}

async function useRows(redis) {
  const scenarios = [
    { rate: 1, delayMs: 20 },
    { rate: 1, delayMs: 200 },
    { rate: 5, delayMs: 20 },
    { rate: 5, delayMs: 200 },
    { rate: 1, delayMs: 20, busy: true },
    { rate: 5, delayMs: 20, busy: true },
    // a server that counts per rolling second, and the 'window' model (before: its only model)
    { rate: 5, delayMs: 20, mode: 'window' },
    { rate: 5, delayMs: 200, mode: 'window' },
  ];
  const rows = [];
  for (const s of QUICK ? scenarios.slice(0, 1) : scenarios) {
    const windowMs = (s.rate === 1 ? 20 : 10) * 1_000;
    const measured = {};
    for (const variant of ['before', 'after']) {
      const run = await replicas({ ...s, variant, count: 2, durationMs: windowMs + 1_500, redis });
      measured[variant] = { use: round(use(run.accepted, s.rate, windowMs), 3), refused: run.refused, accepted: run.accepted.length };
    }
    const strict = (s.mode ?? 'spacing') === 'spacing';
    // no limiter can do better: the next call waits for the previous one's answer (see the README)
    const ceiling = round(strict ? 1_000 / s.rate / (1_000 / s.rate + s.delayMs) : 1_000 / (1_000 + s.delayMs), 3);
    const target = s.delayMs === 20 ? '≥ 0.9, no 10023' : 'no 10023';
    rows.push({
      figure: `use of the rate at ${s.rate}/s, ${s.delayMs} ms server delay, 2 replicas${s.busy ? ', cores busy' : ''}${strict ? '' : `, rolling-second server, model 'window'`}`,
      ours: measured.after.use,
      before: measured.before.use,
      baseline: 1,
      unit: '',
      target,
      pass: measured.after.refused === 0 && (s.delayMs !== 20 || measured.after.use >= 0.9),
      note: `10023 answers: after ${measured.after.refused}, before ${measured.before.refused} (${measured.after.accepted} / ${measured.before.accepted} accepted); baseline = the rate the server allows, over the first ${windowMs / 1_000} s; ceiling of a guaranteed limit with this delay: ${ceiling}`,
    });
  }
  return rows;
}

async function commandRows(redis) {
  const admin = new Redis(redis.url);
  const rows = [];
  try {
    for (const count of QUICK ? [4] : [4, 8, 16]) {
      const measured = {};
      for (const variant of ['before', 'after']) {
        const run = await replicas({ variant, count, rate: 1, delayMs: 20, durationMs: 12_000, inFlight: 1, warmUp: false, redis, beforeGo: () => admin.config('RESETSTAT') });
        const stats = await admin.info('commandstats');
        let sent = 0;
        for (const [, name, calls] of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (!SCRIPT_INTERNAL.has(name)) sent += Number(calls);
        sent -= 1; // the INFO call itself
        measured[variant] = { perCall: round(sent / run.accepted.length, 1), accepted: run.accepted.length, refused: run.refused };
      }
      rows.push({
        figure: `Redis commands per delivered call, ${count} replicas at 1/s`,
        ours: measured.after.perCall,
        before: measured.before.perCall,
        baseline: null,
        unit: 'commands',
        target: `≤ ${3 * count} (3 × replicas)`,
        pass: measured.after.perCall <= 3 * count,
        note: `delivered: after ${measured.after.accepted}, before ${measured.before.accepted} in 12 s; 10023: after ${measured.after.refused}, before ${measured.before.refused}`,
      });
    }
  } finally {
    await admin.quit();
  }
  return rows;
}

async function latencyRows(redisServer) {
  const server = await startMinimalServer();
  const redis = new Redis(redisServer.url);
  const [after, before] = await Promise.all([import(AFTER_MODULE), import(BEFORE_MODULE)]);
  const clients = {};
  const limiters = [];
  // a rate far above what idle calls need: every measured call finds the limiter idle
  const limiterOf = (mod, variant, store) => {
    const options = { store, ratePerSecond: 1_000, key: `bench:${randomUUID()}` };
    const limiter = mod.createRateLimiter(variant === 'after' ? { ...options, logger: false } : options);
    limiters.push(limiter);
    return limiter;
  };
  const base = { sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: app.admin, baseUrl: server.url };
  clients.none = createBroadcastClient(base);
  clients.afterMemory = createBroadcastClient({ ...base, limiter: limiterOf(after, 'after', new after.MemoryStore()) });
  clients.afterRedis = createBroadcastClient({ ...base, limiter: limiterOf(after, 'after', new after.RedisStore({ client: redis })) });
  clients.beforeMemory = createBroadcastClient({ ...base, limiter: limiterOf(before, 'before', new before.MemoryStore()) });
  clients.beforeRedis = createBroadcastClient({ ...base, limiter: limiterOf(before, 'before', new before.RedisStore({ client: redis })) });
  const times = Object.fromEntries(Object.keys(clients).map((k) => [k, []]));
  try {
    const request = { MsgBody: [text('latency')] };
    for (const client of Object.values(clients)) await client.broadcast(request); // signature cached, connection open
    for (let i = 0; i < (QUICK ? 100 : 400); i++) {
      for (const [name, client] of Object.entries(clients)) {
        await new Promise((resolve) => setTimeout(resolve, 3)); // idle: nothing waits, the last call's window is over
        const started = performance.now();
        await client.broadcast(request);
        times[name].push(performance.now() - started);
      }
    }
  } finally {
    for (const limiter of limiters) await limiter.close();
    for (const client of Object.values(clients)) await client.close();
    await redis.quit();
    await server.close();
  }
  // each call is paired with the call without a limiter made just before it: the load of the host cancels out
  const added = (name) => median(times[name].map((t, i) => t - times.none[i]));
  return ['Memory', 'Redis'].map((store) => {
    const ours = round(added(`after${store}`), 3);
    return {
      figure: `added latency of an idle call with the limiter (${store === 'Memory' ? 'MemoryStore' : 'RedisStore, loopback'}), cached signature`,
      ours,
      before: round(added(`before${store}`), 3),
      baseline: round(median(times.none), 3),
      unit: 'ms',
      target: '< 1 ms',
      pass: ours < 1,
      note: `median of ${times.none.length} paired differences; baseline = the same call without a limiter (median)`,
    };
  });
}

export default async function run() {
  await buildBeforeLimiter();
  const redis = await startRedis();
  try {
    process.stderr.write(` (before = packages/rate-limit at ${BEFORE_REF}) `);
    return [...(await latencyRows(redis)), ...(await commandRows(redis)), ...(await useRows(redis))];
  } finally {
    await redis.close();
  }
}
