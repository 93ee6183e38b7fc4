// Telemetry cost in the client: broadcasts with no limiter, against the minimal local server (its own process) and
// against an in-process transport (no network: the client's own CPU work only, where any overhead shows most).
//   off      this tree's core, rebuilt with the client's telemetry compiled out (client-telemetry.ts replaced by a
//            stub whose clientTelemetry() is undefined: what a process without @opentelemetry/api runs); two
//            clients of it (off, offAgain) make the baseline, and how far they differ shows the noise of the host
//   noSdk    this tree's dist with @opentelemetry/api installed and nothing registered (the default for most users)
//   sdk      the same with an SDK registered: BasicTracerProvider + SimpleSpanProcessor(InMemorySpanExporter) and a
//            MeterProvider with an in-memory reader (every span and point is really built and kept)
// Variants run in rounds whose order rotates (see `rounds`); every client shares one connection pool.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metrics, trace } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createBroadcastClient, text } from '@tim-broadcast/core';
import { undiciTransport } from '@tim-broadcast/transport/undici';
import { median, round, runConcurrent, startMinimalServer } from './lib.mjs';

const creds = { sdkAppId: 1400000000, secretKey: 'bench-secret', identifier: 'administrator' };
const message = { MsgBody: [text('bench message'), { MsgType: 'TIMCustomElem', MsgContent: { Data: '{"type":1,"content":"hello world"}' } }] };

const CORE = fileURLToPath(new URL('../packages/core/', import.meta.url));
// inside core's node_modules, so the build's own imports (transport, zod, tls-sig-api-v2) resolve as core's do
const OFF = join(CORE, 'node_modules/.bench-telemetry-off');

/** Builds packages/core/src with client-telemetry.ts replaced by a stub; returns the module's URL. */
async function buildWithoutTelemetry() {
  mkdirSync(OFF, { recursive: true });
  const stub = join(OFF, 'client-telemetry-off.ts');
  writeFileSync(stub, 'export type BroadcastRecorder = never;\nexport function clientTelemetry(): undefined {\n  return undefined;\n}\n');
  const { build } = await import('tsdown');
  await build({
    cwd: CORE,
    config: false,
    entry: [join(CORE, 'src/index.ts')],
    outDir: join(OFF, 'dist'),
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    dts: false,
    logLevel: 'warn',
    plugins: [{ name: 'telemetry-off', resolveId: (source) => (source === './client-telemetry' ? stub : null) }],
  });
  return new URL(`file://${join(OFF, 'dist/index.mjs')}`).href;
}

function startSdk() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 })],
  });
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans,
    async stop() {
      trace.disable();
      metrics.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/** One run of `n` calls: wall ms and CPU µs of this process. */
async function timed(n, concurrency, call) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await runConcurrent(n, concurrency, call);
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuUs: used.user + used.system };
}

/**
 * Runs the variants in rounds, their order rotating from round to round, so the host's load (which drifts over
 * seconds) weighs on all alike. Per round, a variant's throughput relative to the baseline (the geometric mean of
 * `off` and `offAgain` in that round); the medians over rounds, with each variant's median CPU time per call.
 */
async function rounds(variants, { count, n, concurrency }) {
  const names = Object.keys(variants);
  const ratios = Object.fromEntries(names.map((k) => [k, []]));
  const cpu = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = -1; r < count; r++) {
    const order = names.map((_, i) => names[(i + Math.max(r, 0)) % names.length]);
    const runs = {};
    for (const name of order) runs[name] = await timed(n, concurrency, variants[name]);
    if (r < 0) continue; // warm-up
    const baseline = Math.sqrt(runs.off.ms * runs.offAgain.ms);
    for (const name of names) {
      ratios[name].push(baseline / runs[name].ms);
      cpu[name].push(runs[name].cpuUs / n);
    }
  }
  return Object.fromEntries(names.map((k) => [k, { ratio: median(ratios[k]), cpuUs: median(cpu[k]) }]));
}

/** A transport answering at once, in process: what is left is the client's own work. */
function instantTransport() {
  let seq = 0;
  return {
    send: async () => ({ status: 200, headers: {}, body: `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgSeq":${++seq}}` }),
    close: async () => {},
  };
}

/** The two rows of one setting: no SDK against compiled out (the target), and the cost of an SDK. */
async function compare({ setting, offModule, transport, baseUrl, concurrency, n, count, sdkCount }) {
  const make = (create) => create({ ...creds, baseUrl, transport });
  const clients = { off: make(offModule.createBroadcastClient), offAgain: make(offModule.createBroadcastClient), ours: make(createBroadcastClient) };
  const call = (client) => () => client.broadcast(message);
  const off = { off: call(clients.off), offAgain: call(clients.offAgain) };
  const spread = (r) => `two compiled-out clients differ by ${round(Math.abs(1 - r.off.ratio / r.offAgain.ratio) * 100, 2)} %`;
  try {
    const quiet = await rounds({ ...off, noSdk: call(clients.ours) }, { count, n, concurrency });
    const sdk = startSdk();
    let recorded = 0;
    const loud = await rounds(
      {
        ...off,
        sdk: async () => {
          await clients.ours.broadcast(message);
          recorded++;
          if (sdk.spans.getFinishedSpans().length > 2_000) sdk.spans.reset(); // memory stays flat across rounds
        },
      },
      { count: sdkCount, n, concurrency },
    );
    const spans = sdk.spans.getFinishedSpans().length;
    await sdk.stop();
    if (recorded > 0 && spans === 0) throw new Error('the SDK variant recorded no spans');
    return [
      {
        figure: `client throughput, @opentelemetry/api installed and no SDK registered, vs telemetry compiled out (${setting})`,
        ours: round(quiet.noSdk.ratio, 4),
        baseline: 1,
        ratio: round(quiet.noSdk.ratio, 4),
        unit: '× off',
        target: '≥ 0.99 × off',
        pass: quiet.noSdk.ratio >= 0.99,
        note: `median of ${count} rounds of ${n} calls; ${spread(quiet)}; CPU per call ${round(quiet.noSdk.cpuUs, 1)} µs vs ${round(quiet.off.cpuUs, 1)} µs compiled out`,
      },
      {
        figure: `client throughput with an SDK registered (2 spans, 7 metric points per call, in memory) vs compiled out (${setting})`,
        ours: round(loud.sdk.ratio, 4),
        baseline: 1,
        ratio: round(loud.sdk.ratio, 4),
        unit: '× off',
        target: 'measured (cost = 1 − ratio)',
        pass: true,
        note: `median of ${sdkCount} rounds of ${n} calls; ${spread(loud)}; CPU per call ${round(loud.sdk.cpuUs, 1)} µs with the SDK vs ${round(loud.off.cpuUs, 1)} µs compiled out`,
      },
    ];
  } finally {
    await Promise.all(Object.values(clients).map((c) => c.close()));
  }
}

export default async function run() {
  const offModule = await import(await buildWithoutTelemetry());
  const rows = [];
  const server = await startMinimalServer();
  try {
    for (const concurrency of [1, 8]) {
      const transport = undiciTransport({ connections: concurrency });
      try {
        const setting = `minimal server, ${concurrency} in flight`;
        rows.push(...(await compare({ setting, offModule, transport, baseUrl: server.url, concurrency, n: 200, count: 101, sdkCount: 21 })));
      } finally {
        await transport.close();
      }
    }
  } finally {
    await server.close();
  }
  const setting = 'in-process transport, no network: the client’s CPU work alone';
  rows.push(...(await compare({ setting, offModule, transport: instantTransport(), baseUrl: 'http://127.0.0.1:9', concurrency: 1, n: 10_000, count: 31, sdkCount: 7 })));
  return rows;
}
