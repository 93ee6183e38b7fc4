// The `batchSize` call option: how many callers' requests a call carries, sent as `x-tim-broadcast-batch-size`
// when it is above 1, checked like every other call option, and the call span's `tim.batch_size`.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BATCH_SIZE_HEADER, createBroadcastClient, MAX_BATCH_SIZE, text, ValidationError, type BroadcastClient } from '@tim-broadcast/core';
import { startOtel, type OtelHarness } from '../../../testing/otel';

const creds = { sdkAppId: 1400000015, secretKey: 'batch-size-test-secret-0123456789', identifier: 'administrator' };

/** A real HTTP server on 127.0.0.1:0 answering OK and recording each request's headers. */
let server: Server;
let url: string;
const seen: IncomingHttpHeaders[] = [];
let client: BroadcastClient;
let otel: OtelHarness;

beforeAll(async () => {
  otel = startOtel();
  let msgSeq = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, MsgSeq: ++msgSeq }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = createBroadcastClient({ ...creds, baseUrl: url, retry: false });
});

afterAll(async () => {
  await client.close();
  await new Promise((resolve) => server.close(resolve));
  await otel.close();
});

beforeEach(() => {
  seen.length = 0;
  otel.resetSpans();
});

const broadcastSpan = () => otel.spans().find((s) => s.name === 'tim_broadcast.broadcast')!;

describe('batchSize', () => {
  it('is sent as the x-tim-broadcast-batch-size header when above 1, and is the span’s tim.batch_size', async () => {
    expect(BATCH_SIZE_HEADER).toBe('x-tim-broadcast-batch-size');
    await client.broadcast({ MsgBody: [text('a'), text('b'), text('c')] }, { batchSize: 3 });
    expect(seen).toHaveLength(1);
    expect(seen[0]![BATCH_SIZE_HEADER]).toBe('3');
    expect(broadcastSpan().attributes['tim.batch_size']).toBe(3);

    seen.length = 0;
    otel.resetSpans();
    await client.broadcast({ MsgBody: [text('many')] }, { batchSize: MAX_BATCH_SIZE });
    expect(seen[0]![BATCH_SIZE_HEADER]).toBe('10000');
    expect(broadcastSpan().attributes['tim.batch_size']).toBe(10_000);
  });

  it('sends no header for batchSize 1 or without it; the span says 1', async () => {
    await client.broadcast({ MsgBody: [text('alone')] }, { batchSize: 1 });
    await client.broadcast({ MsgBody: [text('no option')] });
    expect(seen).toHaveLength(2);
    for (const headers of seen) expect(headers).not.toHaveProperty(BATCH_SIZE_HEADER);
    expect(otel.spans().filter((s) => s.name === 'tim_broadcast.broadcast').map((s) => s.attributes['tim.batch_size'])).toEqual([1, 1]);
  });

  it.each([0, 1.5, -1, 'x', 10_001, NaN, Infinity, null])('refuses batchSize %s with a ValidationError naming batchSize; nothing is sent', async (bad) => {
    const error = await client.broadcast({ MsgBody: [text('never sent')] }, { batchSize: bad as number }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([['batchSize']]);
    expect((error as ValidationError).issues[0]!.message).toMatch(/integer ≥ 1 and ≤ 10000/);
    expect(seen).toHaveLength(0);
  });

  it('a misspelt key is refused with the closest known name', async () => {
    const error = await client.broadcast({ MsgBody: [text('never sent')] }, { batchsize: 3 } as never).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]).toMatchObject({ path: ['batchsize'], message: expect.stringContaining("'batchSize'") });
    expect(seen).toHaveLength(0);
  });
});
