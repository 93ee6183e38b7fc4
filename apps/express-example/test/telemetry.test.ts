import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { signUserSig } from '@tim-broadcast/core';
import { startEmulator, type Emulator } from '@tim-broadcast/emulator';
import { afterAll, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../../../testing/app-process';
import { startOtlpReceiver, type OtlpReceiver } from '../../../testing/otlp-receiver';
import { recordOutput } from '../../../testing/secret-scan.setup';

// The built app as a real process (`pnpm build` first), against an emulator in this process, exporting traces to a
// stand-in collector run by the test.
const main = fileURLToPath(new URL('../dist/main.mjs', import.meta.url));
const SDK_APP_ID = 1400000031;
const SECRET = `express-otel-${randomBytes(12).toString('hex')}`;
const TOKEN = 'telemetry-admin-token-0123456789';

let app: AppProcess | undefined;
let emu: Emulator | undefined;
let receiver: OtlpReceiver | undefined;
afterAll(async () => {
  app?.kill();
  await emu?.close();
  await receiver?.close();
});

it('serves tim_broadcast_* series on GET /metrics and exports a traced request’s broadcast by OTLP', async () => {
  expect(existsSync(main), `${main} is missing: run \`pnpm build\` first`).toBe(true);
  signUserSig({ sdkAppId: SDK_APP_ID, secretKey: SECRET, identifier: 'administrator' }); // the secret scan learns the key
  emu = await startEmulator({ sdkAppId: SDK_APP_ID, secretKey: SECRET, admin: 'administrator', ratePerSecond: 5 });
  receiver = await startOtlpReceiver();
  app = startApp(main, {
    PATH: process.env.PATH,
    PORT: '0',
    TIM_SDKAPPID: String(SDK_APP_ID),
    TIM_SECRET_KEY: SECRET,
    TIM_BASE_URL: emu.url,
    ADMIN_TOKEN: TOKEN,
    BROADCAST_RATE_PER_SECOND: '5',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  const [, url] = await app.waitFor(/listening on (http:\/\/\S+)/);
  await app.waitFor(/metrics at http:\/\/\S+/);
  expect(app.output()).toContain(`traces exported to ${receiver.url}/v1/traces`);

  // a request that arrives inside a trace of its caller
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const res = await fetch(`${url}/broadcasts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
    body: JSON.stringify({ text: 'traced hello' }),
  });
  expect(res.status).toBe(200);
  const { MsgSeq } = (await res.json()) as { MsgSeq: number };

  const metrics = await (await fetch(`${url}/metrics`)).text();
  recordOutput(metrics);
  expect(metrics).toMatch(/^# TYPE tim_broadcast_calls_total counter$/m);
  expect(metrics).toMatch(
    new RegExp(`^tim_broadcast_calls_total\\{tim_sdkappid="${SDK_APP_ID}",tim_outcome="accepted",tim_error_code="0",otel_scope_name="@tim-broadcast/core"\\} 1$`, 'm'),
  );
  for (const series of ['tim_broadcast_attempts_bucket', 'tim_broadcast_body_size_bucket', 'tim_broadcast_limiter_wait_duration_count', 'tim_broadcast_queue_depth', 'tim_broadcast_queue_batch_size_sum']) {
    expect(metrics).toMatch(new RegExp(`^${series}\\{`, 'm'));
  }
  expect(metrics).not.toContain(SECRET);

  // the collector gets the request's server span, the broadcast in it, and the HTTP attempt
  const broadcast = await receiver.waitFor((s) => s.name === 'tim_broadcast.broadcast' && s.traceId === traceId);
  const server = receiver.spans.find((s) => s.spanId === broadcast.parentSpanId)!;
  expect(server).toMatchObject({ name: 'POST', traceId, parentSpanId: callerSpanId, service: 'express-example' });
  expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'url.path': '/broadcasts', 'http.response.status_code': 200 });
  expect(broadcast.attributes).toMatchObject({ 'tim.sdkappid': SDK_APP_ID, 'tim.msg_seq': MsgSeq, 'tim.attempts': 1 });
  const attempt = await receiver.waitFor((s) => s.parentSpanId === broadcast.spanId);
  expect(attempt.name).toBe('POST /v4/group_open_http_svc/send_broadcast_msg');
  expect(attempt.attributes['url.full']).toContain('usersig=[redacted]');
  expect(receiver.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);
  // scrapes and probes are not traced
  await fetch(`${url}/health`);
  expect(receiver.spans.filter((s) => s.name.includes('/metrics') || s.name.includes('/health'))).toEqual([]);

  app.child.kill('SIGTERM');
  expect(await app.exited).toEqual({ code: 0, signal: null });
  expect(JSON.stringify(receiver.spans)).not.toContain(SECRET);
});
