import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  ApiError,
  QueueClosedError,
  QueueFullError,
  text,
  TimeoutError,
  ValidationError,
  type BroadcastCallOptions,
  type BroadcastClient,
} from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createBroadcastQueue, createRateLimiter, type RateLimiter, type RateLimiterOptions } from '@tim-broadcast/rate-limit';
import { clientFor, delay, emulator, rejection, track } from './helpers';

let emu: Emulator;
let client: BroadcastClient;
let limiter: RateLimiter;

async function setUp(rate = 20, extra: Parameters<typeof clientFor>[2] = {}, limits: RateLimiterOptions = {}) {
  emu = await emulator({ ratePerSecond: rate });
  limiter = createRateLimiter({ ratePerSecond: rate, ...limits });
  client = clientFor(emu.url, limiter, extra);
}

/** `client`, recording the options of every call it is given. */
function recorded(inner: BroadcastClient) {
  const calls: BroadcastCallOptions[] = [];
  const spy: BroadcastClient = {
    broadcast: (request, options) => {
      calls.push(options ?? {});
      return inner.broadcast(request, options);
    },
    close: () => inner.close(),
    sdkAppId: inner.sdkAppId,
    identifier: inner.identifier,
    limiter: inner.limiter,
  };
  return { spy, calls };
}

/** Blocks the limiter for a minute, so everything sent stays queued. */
async function block() {
  await limiter.penalize(60_000);
}

afterEach(async () => {
  await limiter?.close();
  await client?.close();
  await emu?.close();
});

describe('createBroadcastQueue', () => {
  it('sends through the client and resolves with the MsgSeq', async () => {
    await setUp();
    const queue = createBroadcastQueue({ client });
    const results = await Promise.all([1, 2, 3].map((i) => queue.send({ MsgBody: [text(`m${i}`)] })));
    expect(results.map((r) => r.batchSize)).toEqual([1, 1, 1]);
    expect(emu.deliveries.map((d) => d.MsgSeq)).toEqual(results.map((r) => r.MsgSeq));
    expect(emu.deliveries.map((d) => d.body.MsgBody[0])).toEqual([1, 2, 3].map((i) => text(`m${i}`)));
    expect(emu.stats.rejected).toEqual({});
  });

  it('names bad options, and an unknown one with the closest known name', async () => {
    await setUp();
    const error = (() => {
      try {
        createBroadcastQueue({
          client: {} as BroadcastClient,
          coalesce: 'yes' as unknown as boolean,
          maxQueued: 0,
          maxBytes: 12_001,
          concurrency: 1.5,
          deadlineMs: 2 ** 31,
          coalesc: true,
        } as never);
      } catch (err) {
        return err as ValidationError;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error!.issues.map((i) => i.path.join('.'))).toEqual(['coalesc', 'client', 'coalesce', 'maxQueued', 'maxBytes', 'concurrency', 'deadlineMs']);
    expect(error!.issues[0]!.message).toMatch(/did you mean 'coalesce'/);
  });

  it('checks the options of each send: unknown keys, a signal that is not an AbortSignal, timers, retry', async () => {
    await setUp();
    const queue = createBroadcastQueue({ client });
    const bad = await rejection(
      queue.send({ MsgBody: [text('x')] }, {
        signal: { aborted: false } as AbortSignal,
        timeout: 5,
        timeoutMs: Infinity,
        deadlineMs: -1,
        retry: { attempts: 1.5, retries: 2, maxDelayMs: NaN },
      } as never),
    );
    expect(bad).toBeInstanceOf(ValidationError);
    const paths = (bad as ValidationError).issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(['timeout', 'signal', 'deadlineMs', 'timeoutMs', 'retry.retries', 'retry.attempts', 'retry.maxDelayMs']);
    expect((bad as ValidationError).issues[0]!.message).toMatch(/did you mean 'timeoutMs'/);
    expect((bad as ValidationError).issues[1]!.message).toMatch(/expected an AbortSignal/);
    expect(await rejection(queue.send({ MsgBody: [text('x')] }, { retry: 'no' } as never))).toBeInstanceOf(ValidationError);
    expect(queue.size).toBe(0);
    expect(emu.stats.requests).toBe(0);
  });

  it("passes a request's own timeoutMs, retry and remaining deadline to its call, and sends it alone", async () => {
    await setUp();
    const { spy, calls } = recorded(client);
    const queue = createBroadcastQueue({ client: spy, coalesce: true });
    await limiter.penalize(100); // let all three queue up
    const results = await Promise.all([
      queue.send({ MsgBody: [text('own options')] }, { timeoutMs: 4_000, retry: { attempts: 2 }, deadlineMs: 60_000 }),
      queue.send({ MsgBody: [text('b')] }),
      queue.send({ MsgBody: [text('c')] }),
    ]);
    expect(results.map((r) => r.batchSize)).toEqual([1, 2, 2]);
    expect(calls[0]).toMatchObject({ timeoutMs: 4_000, retry: { attempts: 2 } });
    expect(calls[0]!.deadlineMs).toBeGreaterThan(30_000); // what was left of the 60 s
    expect(calls[0]!.deadlineMs).toBeLessThanOrEqual(60_000);
    expect(calls[1]).not.toHaveProperty('timeoutMs');
    expect(calls[1]).not.toHaveProperty('retry');
    expect(calls[1]).not.toHaveProperty('deadlineMs');
  });

  it('a deadline bounds the wait in the queue: TimeoutError, nothing sent; others keep waiting', async () => {
    await setUp(20, {}, { logger: false });
    await block();
    const queue = createBroadcastQueue({ client, deadlineMs: 60_000 });
    const kept = track(queue.send({ MsgBody: [text('kept')] }));
    const error = await rejection(queue.send({ MsgBody: [text('late')] }, { deadlineMs: 200 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe('the 200 ms deadline passed while it waited to be sent; it was not sent');
    expect(queue.size).toBe(1);
    expect(kept.settled).toBe(false);
    expect(emu.stats.requests).toBe(0);
  });

  it('a batch member whose deadline passes in flight is told at once; the call goes on for the others', async () => {
    await setUp(20, {}, { logger: false });
    emu.setFaults({ script: ['slow'], slowMs: 1_500 });
    await limiter.penalize(100);
    const queue = createBroadcastQueue({ client, coalesce: true });
    const short = queue.send({ MsgBody: [text('short')] }, { deadlineMs: 300 });
    const patient = queue.send({ MsgBody: [text('patient')] });
    const error = await rejection(short);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toMatch(/passed while its batch was in flight; it may or may not have been delivered/);
    expect((await patient).batchSize).toBe(2);
    expect(emu.deliveries).toHaveLength(1);
  });

  it("without a deadline, the limiter's maxWaitMs bounds the wait: what waited through it gets the TimeoutError", async () => {
    await setUp(20, {}, { maxWaitMs: 300, logger: false });
    await block();
    const queue = createBroadcastQueue({ client });
    const waited = await Promise.allSettled([queue.send({ MsgBody: [text('a')] }), queue.send({ MsgBody: [text('b')] })]);
    for (const outcome of waited) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(TimeoutError);
      expect((outcome as PromiseRejectedResult).reason.message).toBe('no rate-limit slot within 300 ms (maxWaitMs); nothing was sent');
    }
    expect(queue.lastError).toBeInstanceOf(TimeoutError);
    expect(emu.stats.requests).toBe(0);
  });

  it('close() refuses a timeout a timer cannot take, and the queue goes on', async () => {
    await setUp();
    const queue = createBroadcastQueue({ client });
    for (const timeoutMs of [Infinity, -1, 2 ** 31, NaN]) {
      const error = await rejection(queue.close({ timeoutMs }));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]!.path).toEqual(['timeoutMs']);
    }
    await expect(queue.send({ MsgBody: [text('still open')] })).resolves.toMatchObject({ batchSize: 1 });
  });

  it('rejects invalid input at once with a ValidationError naming the field; nothing reaches the server', async () => {
    await setUp();
    const queue = createBroadcastQueue({ client, maxBytes: 1_000 });
    const bad = await rejection(queue.send({ MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 5 } }] } as never));
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).issues[0]!.path).toEqual(['MsgBody', 0, 'MsgContent', 'Text']);
    const big = await rejection(queue.send({ MsgBody: [text('x'.repeat(1_000))] }));
    expect((big as ValidationError).issues[0]).toMatchObject({ path: ['MsgBody'], message: expect.stringMatching(/1052 bytes; the queue's maxBytes is 1000/) });
    const both = await rejection(queue.send({ Random: 1, MsgBody: [text('a')] }, { idempotencyKey: 'k' }));
    expect((both as ValidationError).issues[0]!.path).toEqual(['idempotencyKey']);
    expect(queue.size).toBe(0);
    expect(emu.stats.requests).toBe(0);
  });

  it('fails fast with QueueFullError past maxQueued, and close() at its deadline rejects what waits', async () => {
    await setUp();
    await block();
    const queue = createBroadcastQueue({ client, maxQueued: 3 });
    const queued = [1, 2, 3].map((i) => queue.send({ MsgBody: [text(`m${i}`)] }));
    const full = await rejection(queue.send({ MsgBody: [text('m4')] }));
    expect(full).toBeInstanceOf(QueueFullError);
    expect(full.message).toMatch(/3 waiting/);
    expect(queue.size).toBe(3);

    await queue.close({ timeoutMs: 50 });
    for (const p of queued) {
      const error = await rejection(p);
      expect(error).toBeInstanceOf(QueueClosedError);
      expect(error.message).toMatch(/not sent within the 50 ms shutdown deadline/);
    }
    expect(await rejection(queue.send({ MsgBody: [text('late')] }))).toBeInstanceOf(QueueClosedError);
    expect(emu.stats.requests).toBe(0);
  });

  it('close() drains what is waiting, then stops intake', async () => {
    await setUp();
    const queue = createBroadcastQueue({ client });
    const sends = Array.from({ length: 5 }, (_, i) => queue.send({ MsgBody: [text(`m${i}`)] }));
    const closing = queue.close();
    expect(await rejection(queue.send({ MsgBody: [text('late')] }))).toBeInstanceOf(QueueClosedError);
    await closing;
    expect(queue.size + queue.inFlight).toBe(0);
    await expect(Promise.all(sends)).resolves.toHaveLength(5);
    expect(emu.deliveries).toHaveLength(5);
    await expect(queue.close()).resolves.toBeUndefined(); // idempotent
  });

  it('close() aborts a call still in flight at the deadline and tells its caller', async () => {
    await setUp();
    emu.setFaults({ script: ['slow'], slowMs: 60_000 });
    const queue = createBroadcastQueue({ client });
    const sent = queue.send({ MsgBody: [text('slow')] });
    await vi.waitFor(() => expect(queue.inFlight).toBe(1));
    await queue.close({ timeoutMs: 100 }); // would hang for a minute if close() waited for the call
    const error = await rejection(sent);
    expect(error).toBeInstanceOf(QueueClosedError);
    expect(error.message).toMatch(/in flight; it may or may not have been delivered/);
    expect(error.cause).toBeInstanceOf(AbortError);
  });

  it('drain() resolves once nothing waits or is in flight', async () => {
    await setUp();
    const queue = createBroadcastQueue({ client });
    await queue.drain(); // already idle
    const sends = Array.from({ length: 4 }, (_, i) => track(queue.send({ MsgBody: [text(`m${i}`)] })));
    expect(queue.size).toBe(4);
    await queue.drain();
    expect(sends.every((s) => s.settled && !s.error)).toBe(true);
    expect(queue.size + queue.inFlight).toBe(0);
  });

  it('an abort while waiting removes the request and rejects with AbortError', async () => {
    await setUp();
    await block();
    const queue = createBroadcastQueue({ client });
    const controller = new AbortController();
    const kept = track(queue.send({ MsgBody: [text('kept')] }));
    const dropped = queue.send({ MsgBody: [text('dropped')] }, { signal: controller.signal });
    expect(queue.size).toBe(2);
    controller.abort('changed my mind');
    const error = await rejection(dropped);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.cause).toBe('changed my mind');
    expect(queue.size).toBe(1);
    expect(await rejection(queue.send({ MsgBody: [text('x')] }, { signal: AbortSignal.abort() }))).toBeInstanceOf(AbortError);
    expect(kept.settled).toBe(false);
  });

  it("passes a lone request's signal to the call in flight", async () => {
    await setUp();
    emu.setFaults({ script: ['slow'], slowMs: 5_000 });
    const queue = createBroadcastQueue({ client });
    const controller = new AbortController();
    const sent = queue.send({ MsgBody: [text('slow')] }, { signal: controller.signal });
    await vi.waitFor(() => expect(queue.inFlight).toBe(1));
    controller.abort();
    expect(await rejection(sent)).toBeInstanceOf(AbortError);
    await queue.drain();
  });

  it('keeps order: each call waits for the previous one to settle (concurrency 1)', async () => {
    await setUp(20, { retry: { attempts: 3, baseDelayMs: 10 } });
    emu.setFaults({ script: ['error10002', 'none', 'error10002'] });
    const queue = createBroadcastQueue({ client });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => queue.send({ MsgBody: [text(`m${i}`)] })));
    expect(emu.deliveries.map((d) => (d.body.MsgBody[0] as { MsgContent: { Text: string } }).MsgContent.Text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(results[0]!.attempts).toBe(2);
  });

  it('records the last error, and rejects only the caller whose call failed', async () => {
    await setUp(20, { retry: false });
    emu.setFaults({ script: ['error10002'] });
    const queue = createBroadcastQueue({ client });
    const [first, second] = await Promise.allSettled([queue.send({ MsgBody: [text('a')] }), queue.send({ MsgBody: [text('b')] })]);
    expect(first.status === 'rejected' && first.reason).toBeInstanceOf(ApiError);
    expect(second.status).toBe('fulfilled');
    expect(queue.lastError).toBeInstanceOf(ApiError);
    expect(queue.lastErrorAt).toBeInstanceOf(Date);
  });

  it('works without a limiter, and with a concurrency above 1', async () => {
    emu = await emulator({ ratePerSecond: Infinity });
    client = clientFor(emu.url);
    const queue = createBroadcastQueue({ client, concurrency: 3 });
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => queue.send({ MsgBody: [text(`m${i}`)] })));
    expect(new Set(results.map((r) => r.MsgSeq)).size).toBe(9);
    expect(emu.deliveries).toHaveLength(9);
  });
});
