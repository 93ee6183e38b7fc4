import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencyOf, ROOT, tempProject, type TempProject } from '../../../testing/temp-project';
import { startTestServer, type TestServer } from './server';

// The built package in projects of their own, loaded by real Node processes (ESM and CommonJS): one where
// @opentelemetry/api cannot be resolved (it is an optional peer), one where it can, with and without an SDK.
const CORE = fileURLToPath(new URL('..', import.meta.url));
const deps = {
  '@tim-broadcast/transport': dependencyOf(CORE, '@tim-broadcast/transport'),
  zod: dependencyOf(CORE, 'zod'),
  'tls-sig-api-v2': dependencyOf(CORE, 'tls-sig-api-v2'),
};
const otel = (name: string) => join(ROOT, 'node_modules', name);

let server: TestServer;
let bare: TempProject;
let withApi: TempProject;
beforeAll(async () => {
  server = await startTestServer();
  bare = tempProject('no-otel', { copy: { '@tim-broadcast/core': CORE }, link: deps });
  withApi = tempProject('otel', {
    copy: { '@tim-broadcast/core': CORE },
    link: { ...deps, ...Object.fromEntries(['@opentelemetry/api', '@opentelemetry/sdk-trace-base'].map((n) => [n, otel(n)])) },
  });
});
afterAll(async () => {
  bare?.remove();
  withApi?.remove();
  await server?.close();
});

const body = `
let api = 'absent';
try { require.resolve('@opentelemetry/api'); api = 'present'; } catch {}
let exporter;
if (process.env.WITH_SDK) {
  const { trace } = require('@opentelemetry/api');
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
}
const client = core.createBroadcastClient({ sdkAppId: 1400000000, secretKey: 'smoke-secret-0123456789', identifier: 'administrator', baseUrl: process.env.API_URL });
client.broadcast({ MsgBody: [core.text('smoke')] }).then(async (r) => {
  await client.close();
  const spans = exporter ? exporter.getFinishedSpans().map((s) => s.name).sort() : null;
  console.log(JSON.stringify({ api, attempts: r.attempts, spans }));
});
`;
const scripts = {
  'CommonJS require': ['smoke.cjs', `const core = require('@tim-broadcast/core');\n${body}`],
  'ESM import': ['smoke.mjs', `import * as core from '@tim-broadcast/core';\nimport { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${body}`],
} as const;

describe.each(Object.entries(scripts))('built @tim-broadcast/core, %s', (_name, [file, source]) => {
  it('loads and broadcasts without @opentelemetry/api installed', async () => {
    expect(JSON.parse(await bare.run(file, source, { API_URL: server.url }))).toEqual({ api: 'absent', attempts: 1, spans: null });
  });

  it('broadcasts with @opentelemetry/api installed and no SDK registered', async () => {
    expect(JSON.parse(await withApi.run(file, source, { API_URL: server.url }))).toEqual({ api: 'present', attempts: 1, spans: null });
  });

  it('records the broadcast and its attempt with an SDK registered', async () => {
    expect(JSON.parse(await withApi.run(file, source, { API_URL: server.url, WITH_SDK: '1' }))).toEqual({
      api: 'present',
      attempts: 1,
      spans: ['POST /v4/group_open_http_svc/send_broadcast_msg', 'tim_broadcast.broadcast'],
    });
  });
});
