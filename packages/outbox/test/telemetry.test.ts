import { context, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { text } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createOutbox, type Outbox } from '@tim-broadcast/outbox';
import { createRateLimiter, type RateLimiter } from '@tim-broadcast/rate-limit';
import { parentOf, spanNamed, startOtel, type OtelHarness } from '../../../testing/otel';
import { safeString } from '../../../testing/secret-scan.setup';
import { APP, clientFor, connect, emulator, uniqueName, type Connection } from './helpers';

const BROADCAST = 'tim_broadcast.broadcast';
const ENQUEUE = 'tim_broadcast.outbox.enqueue';
const WAIT = 'tim_broadcast.outbox.wait';
const ATTEMPT = 'POST /v4/group_open_http_svc/send_broadcast_msg';

let otel: OtelHarness;
let emu: Emulator;
let conn: Connection;
let limiter: RateLimiter;
let outbox: Outbox;
let name: string;
const tracer = () => trace.getTracer('test');

beforeAll(async () => {
  otel = startOtel();
  emu = await emulator({ ratePerSecond: 20 });
  conn = await connect.ioredis();
});
afterAll(async () => {
  await conn.close();
  await emu.close();
  await otel.close();
});
beforeEach(() => {
  otel.resetSpans();
  emu.reset();
  name = uniqueName('otel');
  limiter = createRateLimiter({ ratePerSecond: 20, key: uniqueName('rl') });
  const client = clientFor(emu.url, limiter);
  outbox = createOutbox({ redis: conn.client, client, name, coalesce: true });
  cleanup = async () => {
    await outbox.close();
    await limiter.close();
    await client.close();
  };
});
let cleanup: () => Promise<void>;
afterEach(() => cleanup());

/** Runs `fn` inside a new server-like span, as a request handler would. */
function inRequest<T>(label: string, fn: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(label, { kind: SpanKind.SERVER }, (span) => fn().finally(() => span.end()));
}

const byTrace = (spans: ReadableSpan[], traceId: string) => spans.filter((s) => s.spanContext().traceId === traceId);

it('the outbox carries the enqueuer’s trace to the deliverer: a producer span, a wait span, the call continuing it', async () => {
  // two requests in two traces enqueue; the deliverer starts later, inside an unrelated span of its own
  const first = await inRequest('POST /first', () => outbox.enqueue({ MsgBody: [text('one')] }));
  const second = await inRequest('POST /second', () => outbox.enqueue({ MsgBody: [text('two')] }));
  await inRequest('startup', () => outbox.start());
  await Promise.all([outbox.wait(first.id), outbox.wait(second.id)]);
  expect(emu.deliveries).toHaveLength(1); // one call carried both

  const spans = otel.spans();
  const [requestA, requestB] = ['POST /first', 'POST /second'].map((n) => spanNamed(spans, n));
  const traceA = requestA!.spanContext().traceId;
  const traceB = requestB!.spanContext().traceId;
  expect(traceA).not.toBe(traceB);

  const enqueueA = spanNamed(byTrace(spans, traceA), ENQUEUE);
  const enqueueB = spanNamed(byTrace(spans, traceB), ENQUEUE);
  expect(enqueueA.kind).toBe(SpanKind.PRODUCER);
  expect(parentOf(enqueueA)).toBe(requestA!.spanContext().spanId);
  expect(parentOf(enqueueB)).toBe(requestB!.spanContext().spanId);
  expect(enqueueA.attributes).toMatchObject({ 'tim.outbox.name': name, 'tim.outbox.id': first.id, 'tim.outbox.duplicate': false });

  const waitA = spanNamed(byTrace(spans, traceA), WAIT);
  const waitB = spanNamed(byTrace(spans, traceB), WAIT);
  expect(parentOf(waitA)).toBe(enqueueA.spanContext().spanId);
  expect(parentOf(waitB)).toBe(enqueueB.spanContext().spanId);
  expect(waitA.attributes).toEqual({ 'tim.outbox.name': name, 'tim.batch_size': 2 });

  // the call continues the first enqueuer's trace and links the other's wait; it is not in the deliverer's startup trace
  const broadcast = spanNamed(spans, BROADCAST);
  expect(broadcast.spanContext().traceId).toBe(traceA);
  expect(parentOf(broadcast)).toBe(enqueueA.spanContext().spanId);
  expect(broadcast.attributes).toMatchObject({ 'tim.batch_size': 2, 'tim.attempts': 1, 'tim.msg_seq': emu.deliveries[0]!.MsgSeq });
  expect(broadcast.links.map((l) => l.context.spanId)).toEqual([waitB.spanContext().spanId]);
  expect(spans.filter((s) => s.name === ATTEMPT).map(parentOf)).toEqual([broadcast.spanContext().spanId]);
  const startup = spanNamed(spans, 'startup');
  expect(byTrace(spans, startup.spanContext().traceId).map((s) => s.name)).toEqual(['startup']);

  expect(safeString(spans)).not.toContain(APP.secretKey);
});

it('a broadcast enqueued outside any trace starts one at its enqueue; the call continues it, not the deliverer’s', async () => {
  expect(trace.getSpan(context.active())).toBeUndefined();
  const { id } = await outbox.enqueue({ MsgBody: [text('untraced')] });
  await inRequest('startup', () => outbox.start());
  await outbox.wait(id);
  const spans = otel.spans();
  const enqueue = spanNamed(spans, ENQUEUE);
  expect(parentOf(enqueue)).toBeUndefined();
  const broadcast = spanNamed(spans, BROADCAST);
  expect(parentOf(broadcast)).toBe(enqueue.spanContext().spanId);
  expect(parentOf(spanNamed(spans, WAIT))).toBe(enqueue.spanContext().spanId);
  expect(broadcast.spanContext().traceId).not.toBe(spanNamed(spans, 'startup').spanContext().traceId);
});

it('metrics: backlog by state and oldest age while waiting; batch size and finished broadcasts after delivery', async () => {
  const ids = [];
  for (const t of ['a', 'b', 'c']) ids.push((await outbox.enqueue({ MsgBody: [text(t)] })).id);
  await outbox.enqueue({ MsgBody: [text('later')] }, { sendAt: Date.now() + 3_600_000 });
  const labels = { 'tim.outbox.name': name };
  // points of this test's outbox (the SDK keeps the last points of the earlier tests' ones)
  const ours = async (metric: string) => (await otel.metric(metric)).filter((p) => p.attributes['tim.outbox.name'] === name);

  expect(await ours('tim_broadcast.outbox.backlog')).toEqual([
    { attributes: { ...labels, 'tim.outbox.state': 'queued' }, value: 3 },
    { attributes: { ...labels, 'tim.outbox.state': 'in_progress' }, value: 0 },
    { attributes: { ...labels, 'tim.outbox.state': 'scheduled' }, value: 1 },
  ]);
  const [age] = await ours('tim_broadcast.outbox.oldest_age');
  expect(age!.attributes).toEqual(labels);
  expect(age!.value).toBeGreaterThanOrEqual(0);

  await outbox.start();
  await Promise.all(ids.map((id) => outbox.wait(id)));
  expect(await ours('tim_broadcast.outbox.batch.size')).toEqual([{ attributes: labels, value: expect.objectContaining({ count: 1, sum: 3 }) }]);
  expect(await ours('tim_broadcast.outbox.finished')).toEqual([{ attributes: { ...labels, 'tim.outbox.state': 'delivered' }, value: 3 }]);
  expect(await ours('tim_broadcast.outbox.backlog')).toContainEqual({ attributes: { ...labels, 'tim.outbox.state': 'queued' }, value: 0 });
});
