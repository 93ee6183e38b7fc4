import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { text, type BroadcastClient } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createBroadcastQueue, createRateLimiter, MemoryStore, type BroadcastQueue, type RateLimiter } from '@tim-broadcast/rate-limit';
import { parentOf, spanNamed, startOtel, type OtelHarness } from '../../../testing/otel';
import { safeString } from '../../../testing/secret-scan.setup';
import { APP, clientFor, emulator, manualClock, settleMicrotasks, type ManualClock } from './helpers';

const BROADCAST = 'tim_broadcast.broadcast';
const WAIT = 'tim_broadcast.queue.wait';
const ATTEMPT = 'POST /v4/group_open_http_svc/send_broadcast_msg';

let otel: OtelHarness;
let emu: Emulator;
let clock: ManualClock;
let limiter: RateLimiter;
let client: BroadcastClient;
let queue: BroadcastQueue;

beforeAll(() => {
  otel = startOtel();
});
afterAll(async () => {
  await otel.close();
});
beforeEach(async () => {
  otel.resetSpans();
  emu = await emulator({ ratePerSecond: 5 });
  // a limiter on a clock of the test's own: the next slot comes exactly when the test moves time
  clock = manualClock();
  limiter = createRateLimiter({ ratePerSecond: 1, clock, store: new MemoryStore({ clock }), key: `telemetry-${Math.random()}` });
  client = clientFor(emu.url, limiter);
  queue = createBroadcastQueue({ client, coalesce: true });
});
afterEach(async () => {
  await queue.close({ timeoutMs: 1_000 });
  await limiter.close();
  await client.close();
  await emu.close();
});

/** Uses the limiter's one slot, so what is queued next waits until the test advances the clock. */
async function takeTheSlot(): Promise<void> {
  await queue.send({ MsgBody: [text('first')] });
}

/** Waits (by turns of the event loop, not time) until the queue's worker waits for the limiter with `n` queued. */
async function queuedBehindLimiter(n: number): Promise<void> {
  for (let i = 0; i < 1_000 && !(queue.size === n && limiter.waiting === 1); i++) await settleMicrotasks();
  expect({ queued: queue.size, waitingForLimiter: limiter.waiting }).toEqual({ queued: n, waitingForLimiter: 1 });
}

const base = { 'tim.sdkappid': APP.sdkAppId };

it('metrics after a coalesced batch: depth while waiting, batch sizes, limiter waits, calls', async () => {
  await takeTheSlot();
  const sends = ['a', 'b', 'c'].map((t) => queue.send({ MsgBody: [text(t)] }));
  await queuedBehindLimiter(3);

  expect(await otel.metric('tim_broadcast.queue.depth')).toEqual([
    { attributes: { ...base, 'tim.queue.state': 'waiting' }, value: 3 },
    { attributes: { ...base, 'tim.queue.state': 'in_flight' }, value: 0 },
  ]);

  await clock.advance(1_000);
  const results = await Promise.all(sends);
  expect(results.map((r) => r.batchSize)).toEqual([3, 3, 3]);
  expect(emu.deliveries).toHaveLength(2);

  const [sizes] = await otel.metric('tim_broadcast.queue.batch.size');
  expect(sizes).toMatchObject({ attributes: base, value: { count: 2, sum: 4 } }); // 1, then 3
  const [waits] = await otel.metric('tim_broadcast.limiter.wait.duration');
  expect(waits!.attributes).toEqual({ 'tim.limiter.store': 'memory' });
  expect(waits!.value).toMatchObject({ count: 2 });
  expect((waits!.value as { sum: number }).sum).toBeCloseTo(1, 6); // 0 s, then the 1 s the clock moved
  expect(await otel.metric('tim_broadcast.calls')).toEqual([{ attributes: { ...base, 'tim.outcome': 'accepted', 'tim.error_code': 0 }, value: 2 }]);
  expect(await otel.metric('tim_broadcast.queue.depth')).toEqual([
    { attributes: { ...base, 'tim.queue.state': 'waiting' }, value: 0 },
    { attributes: { ...base, 'tim.queue.state': 'in_flight' }, value: 0 },
  ]);

});

it('context flows from a real HTTP request handler through the queue: wait spans per caller, one call linked to all', async () => {
  const tracer = trace.getTracer('test-server');
  // an HTTP server that opens a server span for each request (from its traceparent) and broadcasts through the queue
  const server: Server = createServer((req, res) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(`${req.method} /announce`, { kind: SpanKind.SERVER }, parent);
    context.with(trace.setSpan(parent, span), async () => {
      const result = await queue.send({ MsgBody: [text(String(req.headers['x-text']))] });
      span.end();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/announce`;
  try {
    await takeTheSlot();
    otel.resetSpans();
    const traceIds = ['a', 'b', 'c'].map((c) => c.repeat(32));
    const answers = traceIds.map((traceId, i) =>
      fetch(url, { method: 'POST', headers: { traceparent: `00-${traceId}-${'1'.repeat(15)}${i}-01`, 'x-text': `caller ${i}` } }).then((r) => r.json() as Promise<{ batchSize: number }>),
    );
    await queuedBehindLimiter(3);
    await clock.advance(1_000);
    expect((await Promise.all(answers)).map((a) => a.batchSize)).toEqual([3, 3, 3]);

    const spans = otel.spans();
    const inTrace = (traceId: string) => spans.filter((s) => s.spanContext().traceId === traceId);
    const requests = traceIds.map((id) => spanNamed(inTrace(id), 'POST /announce'));
    const waits = traceIds.map((id) => spanNamed(inTrace(id), WAIT));
    // each caller's trace: its request span, and in it the time its broadcast waited in the queue
    waits.forEach((wait, i) => {
      expect(parentOf(wait)).toBe(requests[i]!.spanContext().spanId);
      expect(wait.attributes).toEqual({ ...base, 'tim.batch_size': 3 });
    });
    // the one call: in the first caller's trace, linked to the other callers' waits
    const broadcast = spanNamed(spans, BROADCAST);
    expect(broadcast.spanContext().traceId).toBe(traceIds[0]);
    expect(parentOf(broadcast)).toBe(requests[0]!.spanContext().spanId);
    expect(broadcast.attributes['tim.batch_size']).toBe(3);
    expect(broadcast.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual(waits.slice(1).map((w) => [w.spanContext().traceId, w.spanContext().spanId]));
    const attempts = spans.filter((s: ReadableSpan) => s.name === ATTEMPT);
    expect(attempts.map(parentOf)).toEqual([broadcast.spanContext().spanId]);

    expect(safeString(spans)).not.toContain(APP.secretKey);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

it('a queue made before the SDK was registered reports its depth once it is', async () => {
  await otel.close();
  const early = createBroadcastQueue({ client, coalesce: true });
  otel = startOtel();
  expect(await otel.metric('tim_broadcast.queue.depth')).toEqual([]); // not yet: nothing was sent since
  await early.send({ MsgBody: [text('after registration')] });
  expect((await otel.metric('tim_broadcast.queue.depth')).map((p) => p.attributes['tim.queue.state'])).toEqual(['waiting', 'in_flight']);
  await early.close();
});
