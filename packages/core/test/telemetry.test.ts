import { context, createContextKey, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, createBroadcastClient, fetchTransport, text, type BroadcastClientOptions, type Limiter, type Transport } from '@tim-broadcast/core';
import { parentOf, spanNamed, startOtel, type OtelHarness } from '../../../testing/otel';
import { recordOutput, safeString } from '../../../testing/secret-scan.setup';
import { clientTelemetry } from '../src/client-telemetry';
import { refusedUrl, startTestServer, type TestServer } from './server';

const SECRET = 'telemetry-test-secret-never-exported';
const creds = { sdkAppId: 1400000007, secretKey: SECRET, identifier: 'administrator' };
const BROADCAST = 'tim_broadcast.broadcast';
const ATTEMPT = 'POST /v4/group_open_http_svc/send_broadcast_msg';

let server: TestServer;
let otel: OtelHarness;
const clients: { close(): Promise<void> }[] = [];
const usersigs = new Set<string>();

function client(options: Partial<BroadcastClientOptions> = {}) {
  const c = createBroadcastClient({ ...creds, baseUrl: server.url, retry: { baseDelayMs: 1, maxDelayMs: 2, throttleDelayMs: 1 }, ...options } as BroadcastClientOptions);
  clients.push(c);
  return c;
}

const attemptsOf = (spans: ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((s) => s.name === ATTEMPT && parentOf(s) === parent.spanContext().spanId).sort((a, b) => Number(a.attributes['tim.attempt']) - Number(b.attributes['tim.attempt']));

describe('without an SDK registered', () => {
  it('records nothing and sends as usual; an SDK registered later is picked up by the same client', async () => {
    server = await startTestServer();
    const telemetry = clientTelemetry(creds.sdkAppId)!;
    expect(telemetry).toBeDefined(); // @opentelemetry/api is installed in the workspace
    expect(telemetry.begin()).toBeUndefined(); // ... but nothing is registered: no recorder, no work

    const c = client();
    expect((await c.broadcast({ MsgBody: [text('before the SDK')] })).attempts).toBe(1);

    const late = startOtel();
    try {
      expect(telemetry.begin()).toBeDefined();
      await c.broadcast({ MsgBody: [text('after the SDK')] });
      expect(late.spans().map((s) => s.name).sort()).toEqual([ATTEMPT, BROADCAST]);
      expect(await late.metric('tim_broadcast.calls')).toEqual([
        { attributes: { 'tim.sdkappid': creds.sdkAppId, 'tim.outcome': 'accepted', 'tim.error_code': 0 }, value: 1 },
      ]);
    } finally {
      await late.close();
    }
    expect(telemetry.begin()).toBeUndefined();
    await c.close();
    await server.close();
  });
});

describe('with the SDK registered', () => {
  beforeAll(() => {
    otel = startOtel();
  });
  afterAll(async () => {
    await otel.close();
  });
  beforeEach(async () => {
    server = await startTestServer();
    otel.resetSpans();
  });
  afterEach(async () => {
    for (const r of server.seen) usersigs.add(r.query.get('usersig')!);
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.close();
  });

  it('a retried broadcast: one span inside the caller’s trace, one HTTP client span per attempt, retries as events', async () => {
    server.script({ code: 10002, info: 'internal' }, { code: 10023, info: 'too fast' });
    const tracer = trace.getTracer('test');
    const result = await tracer.startActiveSpan('GET /announce', async (request) => {
      try {
        return await client().broadcast({ MsgBody: [text('hello')], From_Account: 'ops' });
      } finally {
        request.end();
      }
    });
    expect(result.attempts).toBe(3);

    const spans = otel.spans();
    const request = spanNamed(spans, 'GET /announce');
    const broadcast = spanNamed(spans, BROADCAST);
    expect(broadcast.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(parentOf(broadcast)).toBe(request.spanContext().spanId);
    expect(broadcast.kind).toBe(SpanKind.INTERNAL);
    expect(broadcast.status.code).toBe(SpanStatusCode.UNSET);
    expect(broadcast.attributes).toEqual({
      'tim.sdkappid': creds.sdkAppId,
      'tim.batch_size': 1,
      'tim.random': result.Random,
      'tim.body_bytes': Buffer.byteLength(server.seen[0]!.rawBody),
      'tim.attempts': 3,
      'tim.error_code': 0,
      'tim.msg_seq': result.MsgSeq,
    });
    expect(broadcast.events.map((e) => [e.name, e.attributes?.['tim.attempt'], e.attributes?.['tim.retry.reason']])).toEqual([
      ['tim.retry', 1, 'retryable-code'],
      ['tim.retry', 2, 'throttled'],
    ]);

    const attempts = attemptsOf(spans, broadcast);
    expect(attempts).toHaveLength(3);
    const port = Number(new URL(server.url).port);
    for (const [i, attempt] of attempts.entries()) {
      expect(attempt.kind).toBe(SpanKind.CLIENT);
      expect(attempt.attributes).toMatchObject({
        'http.request.method': 'POST',
        'url.template': '/v4/group_open_http_svc/send_broadcast_msg',
        'server.address': '127.0.0.1',
        'server.port': port,
        'http.response.status_code': 200,
        'tim.attempt': i + 1,
      });
      expect(attempt.attributes['url.full']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v4\/group_open_http_svc\/send_broadcast_msg\?.*&usersig=\[redacted\]&/);
      expect(attempt.attributes['url.full']).toContain(`sdkappid=${creds.sdkAppId}`);
      expect(attempt.attributes['http.request.resend_count']).toBe(i === 0 ? undefined : i);
    }
    expect(attempts.map((a) => [a.attributes['tim.error_code'], a.attributes['error.type'], a.status.code])).toEqual([
      [10002, 'ApiError', SpanStatusCode.ERROR],
      [10023, 'ApiError', SpanStatusCode.ERROR],
      [0, undefined, SpanStatusCode.UNSET],
    ]);
    expect(attempts[2]!.attributes['tim.msg_seq']).toBe(result.MsgSeq);
    // each attempt lies inside the broadcast span
    for (const attempt of attempts) expect(hr(attempt.startTime)).toBeGreaterThanOrEqual(hr(broadcast.startTime));

    const base = { 'tim.sdkappid': creds.sdkAppId };
    expect(await otel.metric('tim_broadcast.calls')).toContainEqual({ attributes: { ...base, 'tim.outcome': 'accepted', 'tim.error_code': 0 }, value: 1 });
    expect(await otel.metric('tim_broadcast.throttled')).toEqual([{ attributes: { ...base, 'tim.error_code': 10023 }, value: 1 }]);
    const [perCall] = await otel.metric('tim_broadcast.attempts');
    expect(perCall!.value).toMatchObject({ count: 1, sum: 3 });
    const byCode = await otel.metric('tim_broadcast.attempt.duration');
    expect(byCode.map((p) => [p.attributes['tim.error_code'], p.attributes['error.type'], (p.value as { count: number }).count]).sort()).toEqual([
      [0, undefined, 1],
      [10002, 'ApiError', 1],
      [10023, 'ApiError', 1],
    ]);
    const [bytes] = await otel.metric('tim_broadcast.body.size');
    expect(bytes!.value).toMatchObject({ count: 1, sum: Buffer.byteLength(server.seen[0]!.rawBody) });
  });

  it('a refused broadcast: error status, ErrorCode and error type on the span and in the calls counter', async () => {
    server.script({ code: 10004, info: 'bad field' });
    const error = await client()
      .broadcast({ MsgBody: [text('refused')] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const broadcast = spanNamed(otel.spans(), BROADCAST);
    expect(broadcast.status).toEqual({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    expect(broadcast.attributes).toMatchObject({ 'tim.attempts': 1, 'tim.error_code': 10004, 'error.type': 'ApiError' });
    expect(broadcast.events.map((e) => [e.name, e.attributes?.['exception.type']])).toEqual([['exception', 'ApiError']]);
    expect(await otel.metric('tim_broadcast.calls')).toContainEqual({
      attributes: { 'tim.sdkappid': creds.sdkAppId, 'tim.outcome': 'failed', 'tim.error_code': 10004, 'error.type': 'ApiError' },
      value: 1,
    });
  });

  it('a network failure: the attempt span has the error code as error.type and no status code', async () => {
    const c = client({ baseUrl: await refusedUrl(), retry: false });
    await expect(c.broadcast({ MsgBody: [text('nobody listens')] })).rejects.toThrow();
    const spans = otel.spans();
    const [attempt] = attemptsOf(spans, spanNamed(spans, BROADCAST));
    expect(attempt!.attributes['http.response.status_code']).toBeUndefined();
    expect(attempt!.attributes['error.type']).toBe('ECONNREFUSED');
    expect(attempt!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a limiter wait is an event on the broadcast span, one per attempt', async () => {
    let acquired = 0;
    const limiter: Limiter = { acquire: () => new Promise((resolve) => setTimeout(() => resolve(void acquired++), 5)) };
    server.script({ code: 10002 });
    await client({ limiter }).broadcast({ MsgBody: [text('limited')] });
    const broadcast = spanNamed(otel.spans(), BROADCAST);
    const waits = broadcast.events.filter((e) => e.name === 'tim.limiter.acquired');
    expect(acquired).toBe(2);
    expect(waits.map((e) => e.attributes?.['tim.attempt'])).toEqual([1, 2]);
    for (const e of waits) expect(e.attributes?.['tim.wait_ms']).toBeGreaterThanOrEqual(0);
  });

  it('the transport runs with the attempt span active and instrumentation suppressed (no second span with the UserSig)', async () => {
    const seen: { spanId: string | undefined; suppressed: unknown }[] = [];
    const inner = fetchTransport();
    const transport: Transport = {
      send(request) {
        const active = context.active();
        seen.push({ spanId: trace.getSpan(active)?.spanContext().spanId, suppressed: active.getValue(createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING')) });
        return inner.send(request);
      },
      close: () => inner.close(),
    };
    await client({ transport }).broadcast({ MsgBody: [text('suppressed')] });
    await inner.close();
    const spans = otel.spans();
    const [attempt] = attemptsOf(spans, spanNamed(spans, BROADCAST));
    expect(seen).toEqual([{ spanId: attempt!.spanContext().spanId, suppressed: true }]);
  });

  it('no secret key and no UserSig in any span or metric (and the scan reads exported spans)', async () => {
    server.script({ code: 10002, echoUrl: true }, { status: 502 });
    await client().broadcast({ MsgBody: [text('scan me')] });
    const spans = otel.spans();
    const exported = safeString(spans) + safeString(await otel.collect());
    // the scan sees what an exporter sends: attribute values, event attributes, metric labels
    expect(exported).toContain('usersig=[redacted]');
    expect(exported).toContain('tim.retry.reason');
    expect(exported).toContain('tim_broadcast.attempt.duration');
    const sigs = server.seen.map((r) => r.query.get('usersig')!);
    expect(sigs[0]!.length).toBeGreaterThan(20);
    for (const needle of [SECRET, ...sigs, ...usersigs]) expect(exported).not.toContain(needle);
    recordOutput(spans);
  });
});

function hr([s, ns]: [number, number]): number {
  return s * 1e9 + ns;
}
