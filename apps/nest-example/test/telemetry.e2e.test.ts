import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { signUserSig } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { afterAll, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../../../testing/app-process';
import { startOtlpReceiver, type OtlpReceiver } from '../../../testing/otlp-receiver';
import { recordOutput } from '../../../testing/secret-scan.setup';
import { ADMIN, emulatorEnv, inheritedEnv, SDK_APP_ID } from './helpers';

// The compiled app as a real process (`pnpm build` first), against an emulator in this process, exporting traces
// to a stand-in collector run by the test.
const appMain = process.env.NEST_EXAMPLE_MAIN ?? fileURLToPath(new URL('../dist/main.js', import.meta.url));

let app: AppProcess | undefined;
let emu: Emulator | undefined;
let receiver: OtlpReceiver | undefined;
afterAll(async () => {
  app?.kill();
  await emu?.close();
  await receiver?.close();
});

it('serves tim_broadcast_* series on GET /metrics and exports a traced request’s broadcast by OTLP', async () => {
  expect(existsSync(appMain), `${appMain} is missing: run \`pnpm build\` first`).toBe(true);
  const fixture = await emulatorEnv(5);
  emu = fixture.emu;
  signUserSig({ sdkAppId: SDK_APP_ID, secretKey: fixture.env.TIM_SECRET_KEY!, identifier: ADMIN }); // the secret scan learns the key
  receiver = await startOtlpReceiver();
  app = startApp(appMain, { ...inheritedEnv(), ...fixture.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' });
  const [, url] = await app.waitFor(/metrics at (http:\/\/127\.0\.0\.1:\d+)\/metrics/);
  expect(app.output()).toContain(`traces exported to ${receiver.url}/v1/traces`);

  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const res = await fetch(`${url}/announcements`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
    body: JSON.stringify({ text: 'traced announcement' }),
  });
  expect(res.status).toBe(200);
  const { MsgSeq } = (await res.json()) as { MsgSeq: number };

  const metrics = await (await fetch(`${url}/metrics`)).text();
  recordOutput(metrics);
  expect(metrics).toMatch(/^# TYPE tim_broadcast_calls_total counter$/m);
  expect(metrics).toMatch(
    new RegExp(`^tim_broadcast_calls_total\\{tim_sdkappid="${SDK_APP_ID}",tim_outcome="accepted",tim_error_code="0",otel_scope_name="@tim-broadcast/core"\\} 1$`, 'm'),
  );
  for (const series of ['tim_broadcast_attempts_bucket', 'tim_broadcast_limiter_wait_duration_count', 'tim_broadcast_queue_depth', 'tim_broadcast_queue_batch_size_sum']) {
    expect(metrics).toMatch(new RegExp(`^${series}\\{`, 'm'));
  }
  expect(metrics).not.toContain(fixture.env.TIM_SECRET_KEY);

  const broadcast = await receiver.waitFor((s) => s.name === 'tim_broadcast.broadcast' && s.traceId === traceId);
  const server = receiver.spans.find((s) => s.spanId === broadcast.parentSpanId)!;
  expect(server).toMatchObject({ name: 'POST /announcements', traceId, parentSpanId: callerSpanId, service: 'nest-example' });
  expect(server.attributes).toMatchObject({ 'http.route': '/announcements', 'http.response.status_code': 200 });
  expect(broadcast.attributes).toMatchObject({ 'tim.sdkappid': SDK_APP_ID, 'tim.msg_seq': MsgSeq, 'tim.attempts': 1 });
  const attempt = await receiver.waitFor((s) => s.parentSpanId === broadcast.spanId);
  expect(attempt.attributes['url.full']).toContain('usersig=[redacted]');

  app.child.kill('SIGTERM');
  expect(await app.exited).toEqual({ code: 0, signal: null });
  expect(JSON.stringify(receiver.spans)).not.toContain(fixture.env.TIM_SECRET_KEY);
});
