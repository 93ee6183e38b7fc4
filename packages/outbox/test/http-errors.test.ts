import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { text, TimeoutError } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import {
  createOutbox,
  OutboxClosedError,
  OutboxExpiredError,
  OutboxFailedError,
  OutboxNotFoundError,
  OutboxRedisError,
  OutboxUncertainError,
  OutboxWaitTimeoutError,
  type Outbox,
  type OutboxStatus,
} from '@tim-broadcast/outbox';
import { httpErrorResponse } from '@tim-broadcast/rate-limit';
import { clientFor, connect, contentFilter, emulator, rejection, uniqueName, until, type Connection } from './helpers';

// How the outbox's errors answer over HTTP: each describes itself (`http`), and `httpErrorResponse` — the one mapping
// of the Express router and the Nest filter — answers them so. The errors here come from a real outbox on a real
// redis-server wherever one can produce them; the Express and Nest suites check the same answers over real HTTP.

let emu: Emulator;
let conn: Connection;
const opened: Outbox[] = [];
beforeAll(async () => {
  emu = await emulator({ ratePerSecond: 20 });
  conn = await connect.ioredis();
});
afterAll(async () => {
  for (const outbox of opened) await outbox.close();
  await conn.close();
  await emu.close();
});

function outboxOn(url: string, extra: { redis?: Connection['client']; redisTimeoutMs?: number } = {}): Outbox {
  const outbox = createOutbox({ redis: extra.redis ?? conn.client, client: clientFor(url), name: uniqueName('http'), ...(extra.redisTimeoutMs ? { redisTimeoutMs: extra.redisTimeoutMs } : {}) });
  opened.push(outbox);
  return outbox;
}

const status = (extra: Partial<OutboxStatus>): OutboxStatus => ({ id: 'b-1', state: 'queued', enqueuedAt: 0, expiresAt: 1, ...extra });

describe('outbox errors → HTTP (httpErrorResponse)', () => {
  it('a broadcast the API refused for good: 502 delivery_failed with its id and the upstream code', async () => {
    const filter = await contentFilter(emu, 'forbidden-word');
    try {
      const outbox = outboxOn(filter.url);
      const { id } = await outbox.enqueue({ MsgBody: [text('a forbidden-word here')] });
      await outbox.start();
      const err = await rejection(outbox.wait(id, { timeoutMs: 15_000 }));
      expect(err).toBeInstanceOf(OutboxFailedError);
      expect(httpErrorResponse(err)).toEqual({
        status: 502,
        body: { error: 'delivery_failed', message: err.message, id, code: 80001 },
        headers: {},
      });
    } finally {
      await filter.close();
    }
  });

  it('a failure without an upstream code has no code field', () => {
    const err = new OutboxFailedError(status({ state: 'failed', error: { name: 'ValidationError', message: 'no longer parses' } }));
    expect(httpErrorResponse(err)!.body).toEqual({ error: 'delivery_failed', message: err.message, id: 'b-1' });
  });

  it('an expired broadcast: 504 delivery_expired', async () => {
    const outbox = outboxOn(emu.url);
    const { id } = await outbox.enqueue({ MsgBody: [text('stale soon')] }, { ttlMs: 1 });
    // no deliverer runs: reading it after its deadline ends it expired
    await until(async () => (await outbox.status(id))?.state === 'expired', 5_000, 'the broadcast to expire');
    const err = await rejection(outbox.wait(id));
    expect(err).toBeInstanceOf(OutboxExpiredError);
    expect(httpErrorResponse(err)).toMatchObject({ status: 504, body: { error: 'delivery_expired', id }, headers: {} });
  });

  it('an uncertain broadcast: 504 delivery_uncertain with the reason', () => {
    const err = new OutboxUncertainError(status({ state: 'uncertain', reason: 'dedup-window' }));
    expect(httpErrorResponse(err)).toEqual({ status: 504, body: { error: 'delivery_uncertain', message: err.message, id: 'b-1', reason: 'dedup-window' }, headers: {} });
    const unknown = new OutboxUncertainError(status({ state: 'uncertain' }));
    expect(httpErrorResponse(unknown)!.body).toEqual({ error: 'delivery_uncertain', message: unknown.message, id: 'b-1' });
  });

  it('an unknown id: 404 broadcast_not_found', async () => {
    const err = await rejection(outboxOn(emu.url).wait('no-such-broadcast'));
    expect(err).toBeInstanceOf(OutboxNotFoundError);
    expect(httpErrorResponse(err)).toEqual({ status: 404, body: { error: 'broadcast_not_found', message: err.message }, headers: {} });
  });

  it('a closed outbox: 503 shutting_down', async () => {
    const outbox = outboxOn(emu.url);
    await outbox.close();
    const err = await rejection(outbox.enqueue({ MsgBody: [text('too late')] }));
    expect(err).toBeInstanceOf(OutboxClosedError);
    expect(httpErrorResponse(err)).toEqual({ status: 503, body: { error: 'shutting_down', message: err.message }, headers: {} });
  });

  it("Redis not answering: 503 outbox_unavailable with Retry-After 1, never Redis's own message", async () => {
    // nothing listens on port 1: the client keeps trying to connect
    const dead = new Redis('redis://127.0.0.1:1', { retryStrategy: () => 100 });
    dead.on('error', () => {});
    try {
      const outbox = outboxOn(emu.url, { redis: dead, redisTimeoutMs: 200 });
      const err = await rejection(outbox.enqueue({ MsgBody: [text('nowhere to go')] }));
      expect(err).toBeInstanceOf(OutboxRedisError);
      const response = httpErrorResponse(err)!;
      expect(response).toMatchObject({ status: 503, body: { error: 'outbox_unavailable', retryAfterSeconds: 1 }, headers: { 'retry-after': '1' } });
      expect(response.body.message).toContain('Idempotency-Key');
      expect(response.body.message).not.toContain('127.0.0.1');
    } finally {
      dead.disconnect();
    }
  });

  it('a wait that times out: 504 wait_timeout, not the upstream_timeout of its base class TimeoutError', async () => {
    const outbox = outboxOn(emu.url);
    const { id } = await outbox.enqueue({ MsgBody: [text('nobody delivers this')] });
    const err = await rejection(outbox.wait(id, { timeoutMs: 50 }));
    expect(err).toBeInstanceOf(OutboxWaitTimeoutError);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(httpErrorResponse(err)).toEqual({ status: 504, body: { error: 'wait_timeout', message: err.message, id }, headers: {} });
  });
});
