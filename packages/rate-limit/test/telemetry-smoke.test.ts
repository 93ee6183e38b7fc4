import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Emulator } from '@tim-broadcast/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencyOf, ROOT, tempProject, type TempProject } from '../../../testing/temp-project';
import { APP, emulator } from './helpers';

// The built package (and the built core it loads telemetry through) in projects of their own, loaded by real Node
// processes (ESM and CommonJS): without @opentelemetry/api installed, and with it and an SDK.
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const CORE = fileURLToPath(new URL('../../core', import.meta.url));
const links = {
  '@tim-broadcast/transport': dependencyOf(CORE, '@tim-broadcast/transport'),
  zod: dependencyOf(CORE, 'zod'),
  'tls-sig-api-v2': dependencyOf(CORE, 'tls-sig-api-v2'),
};
const copy = { '@tim-broadcast/rate-limit': PACKAGE, '@tim-broadcast/core': CORE };

let emu: Emulator;
let bare: TempProject;
let withApi: TempProject;
beforeAll(async () => {
  emu = await emulator();
  bare = tempProject('rate-limit-no-otel', { copy, link: links });
  const otel = ['@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/context-async-hooks'];
  withApi = tempProject('rate-limit-otel', { copy, link: { ...links, ...Object.fromEntries(otel.map((n) => [n, join(ROOT, 'node_modules', n)])) } });
});
afterAll(async () => {
  bare?.remove();
  withApi?.remove();
  await emu?.close();
});

const body = `
let exporter;
let inSpan = (fn) => fn();
if (process.env.WITH_SDK) {
  const { context, trace } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  inSpan = (fn) => trace.getTracer('smoke').startActiveSpan('request', (span) => fn().finally(() => span.end()));
}
const b = rl.createBroadcaster({ sdkAppId: ${APP.sdkAppId}, secretKey: '${APP.secretKey}', identifier: '${APP.admin}', baseUrl: process.env.API_URL, coalesce: true, rateLimit: { ratePerSecond: 20 } });
inSpan(() => Promise.all([b.send({ MsgBody: [core.text('one')] }), b.send({ MsgBody: [core.text('two')] })])).then(async (results) => {
  await b.close();
  const spans = exporter ? exporter.getFinishedSpans().map((s) => s.name).sort() : null;
  console.log(JSON.stringify({ batchSizes: results.map((r) => r.batchSize), spans }));
});
`;
const scripts = {
  'CommonJS require': ['smoke.cjs', `const rl = require('@tim-broadcast/rate-limit'); const core = require('@tim-broadcast/core');\n${body}`],
  'ESM import': [
    'smoke.mjs',
    `import * as rl from '@tim-broadcast/rate-limit'; import * as core from '@tim-broadcast/core'; import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${body}`,
  ],
} as const;

describe.each(Object.entries(scripts))('built @tim-broadcast/rate-limit, %s', (_name, [file, source]) => {
  it('queues and coalesces without @opentelemetry/api installed', async () => {
    expect(JSON.parse(await bare.run(file, source, { API_URL: emu.url }))).toEqual({ batchSizes: [2, 2], spans: null });
  });

  it('records the queue waits, the call and its attempt with an SDK registered', async () => {
    expect(JSON.parse(await withApi.run(file, source, { API_URL: emu.url, WITH_SDK: '1' }))).toEqual({
      batchSizes: [2, 2],
      spans: ['POST /v4/group_open_http_svc/send_broadcast_msg', 'request', 'tim_broadcast.broadcast', 'tim_broadcast.queue.wait', 'tim_broadcast.queue.wait'],
    });
  });
});
