// The demo: a burst of broadcasts of mixed kinds and sizes through the coalescing queue, with a live progress bar
// and a summary. Against the embedded emulator, unless TIM_SDKAPPID, TIM_SECRET_KEY, TIM_IDENTIFIER and TIM_REGION
// (or TIM_BASE_URL) are set: then against the real service.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { startEmulator } from '@tim-broadcast/emulator';
import { createBroadcaster } from '@tim-broadcast/rate-limit';
import { makeMessages } from './messages.mjs';
import { progressBar, table } from './render.mjs';

const env = process.env;
const real = Boolean(env.TIM_SDKAPPID && env.TIM_SECRET_KEY && env.TIM_IDENTIFIER && (env.TIM_REGION || env.TIM_BASE_URL));
const count = Number(env.DEMO_MESSAGES ?? 200);
const ratePerSecond = Number(env.TIM_RATE_PER_SECOND ?? 1);

let emulator;
let target;
if (real) {
  target = {
    sdkAppId: Number(env.TIM_SDKAPPID),
    secretKey: env.TIM_SECRET_KEY,
    identifier: env.TIM_IDENTIFIER,
    ...(env.TIM_BASE_URL ? { baseUrl: env.TIM_BASE_URL } : { region: env.TIM_REGION }),
  };
  console.log(`REAL SERVICE: ${count} broadcasts will go to EVERY audio-video group of SDKAppID ${target.sdkAppId} (${env.TIM_REGION ?? env.TIM_BASE_URL}).`);
  if (env.DEMO_YES !== '1') {
    console.log('Starting in 5 s — press Ctrl-C to stop (set DEMO_YES=1 to skip this wait).');
    await new Promise((r) => setTimeout(r, 5000));
  }
} else {
  const secretKey = randomBytes(24).toString('hex');
  emulator = await startEmulator({ sdkAppId: 1400000000, secretKey, admin: 'administrator', ratePerSecond });
  target = { sdkAppId: 1400000000, secretKey, identifier: 'administrator', baseUrl: emulator.url };
  console.log(`No TIM_* credentials: using the local emulator at ${emulator.url} (loopback only, ${ratePerSecond} call/s like the real API).`);
  console.log(`Watch the broadcasts arrive on its dashboard: ${emulator.url}/ (set DEMO_HOLD=1 to keep it open after the run).`);
}

const messages = makeMessages(count);
const counters = { sent: 0, delivered: 0, failed: 0, calls: 0, retries: 0, throttled: 0 };
const callBytes = [];
const msgSeqs = [];
const broadcaster = createBroadcaster({
  ...target,
  coalesce: true,
  rateLimit: { ratePerSecond },
  hooks: {
    onRequest: (e) => {
      counters.calls++;
      callBytes.push(e.bytes);
    },
    onResponse: (e) => {
      if (e.errorCode === 10023) counters.throttled++;
    },
    onRetry: () => counters.retries++,
  },
});

const bar = progressBar(count, () => counters);
const started = Date.now();
const results = await Promise.allSettled(
  messages.map((m) => {
    counters.sent++;
    return broadcaster.send(m.request).then(
      (r) => {
        counters.delivered++;
        msgSeqs.push(r.MsgSeq);
        return r;
      },
      (err) => {
        counters.failed++;
        throw err;
      },
    );
  }),
);
const elapsed = (Date.now() - started) / 1000;
bar.stop();
await broadcaster.close();

const failures = results.filter((r) => r.status === 'rejected');
const distinctCalls = new Set(msgSeqs).size;
const kinds = new Set(messages.map((m) => m.kind)).size;
const totalBytes = messages.reduce((n, m) => n + m.bytes, 0);
const customs = messages.filter((m) => m.request.MsgBody.some((e) => e.MsgType === 'TIMCustomElem')).length;
const lowerBound = Math.max(Math.ceil(totalBytes / 12_000), customs);
const rows = [
  ['target', real ? `real service (${env.TIM_REGION ?? env.TIM_BASE_URL})` : `emulator ${emulator.url}`],
  ['messages', `${count} (${kinds} kinds, ${Math.min(...messages.map((m) => m.bytes))}–${Math.max(...messages.map((m) => m.bytes))} bytes each, ${totalBytes.toLocaleString('en-US')} in all)`],
  ['delivered', `${counters.delivered}${failures.length ? `, ${failures.length} FAILED` : ''}`],
  ['calls', `${counters.calls} HTTP calls → ${distinctCalls} broadcasts (lower bound ${lowerBound}: ${customs} custom elements, at most one per call); ${counters.retries} retries`],
  ['bytes per call', `avg ${Math.round(avg(callBytes)).toLocaleString('en-US')}, max ${Math.max(...callBytes).toLocaleString('en-US')} (request body; MsgBody limit 12,000)`],
  ['MsgSeq range', msgSeqs.length ? `${Math.min(...msgSeqs)} – ${Math.max(...msgSeqs)}` : '—'],
  ['10023 answers', String(counters.throttled)],
  ['elapsed', `${elapsed.toFixed(1)} s at ${ratePerSecond} call/s`],
];

if (emulator) {
  const stats = emulator.stats;
  const sentElements = messages.flatMap((m) => m.request.MsgBody);
  const deliveredElements = emulator.deliveries.flatMap((d) => d.body.MsgBody);
  const inOrder = isDeepStrictEqual(sentElements, deliveredElements);
  rows.push(['emulator check', `${stats.accepted} deliveries, ${stats.rejected[10023] ?? 0}×10023, every message ${inOrder ? 'once and in order' : 'NOT delivered exactly once in order'}, min gap ${stats.minGapMs ?? '—'} ms`]);
  if (!inOrder || (stats.rejected[10023] ?? 0) > 0) process.exitCode = 1;
}
console.log();
console.log(table(rows));
for (const f of failures.slice(0, 5)) console.log(`failed: ${f.reason?.name}: ${f.reason?.message}`);
if (failures.length || counters.throttled) process.exitCode = 1;
if (emulator) {
  if (env.DEMO_HOLD === '1') {
    console.log(`\nThe emulator's dashboard stays at ${emulator.url}/ — Ctrl-C to stop.`);
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
  await emulator.close();
}

function avg(list) {
  return list.length ? list.reduce((a, b) => a + b, 0) / list.length : 0;
}
