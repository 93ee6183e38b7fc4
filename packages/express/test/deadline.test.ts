import type { Emulator } from '@tim-broadcast/emulator';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliveredTexts } from '../../../testing/deliveries';
import { freePort } from '../../../testing/free-port';
import { testRedis } from '../../../testing/redis-server';
import { broadcastMiddleware, closeBroadcast, createBroadcastRouter, type BroadcastMiddlewareOptions } from '../src/index';
import {
  bearer,
  call,
  emulator,
  EXPRESS_VERSIONS,
  findLeaks,
  recordingSuite,
  serve,
  TOKEN,
  type Served,
} from './helpers';

// Nothing waits forever: whatever holds a broadcast up (a Redis store that is down or unreachable, a long queue), the
// router answers by its deadline.
const { seen, logger, appOptions } = recordingSuite();

let emu: Emulator;
beforeAll(async () => {
  emu = await emulator(1000);
});
afterAll(() => emu?.close());

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const options = (extra: Partial<BroadcastMiddlewareOptions>): BroadcastMiddlewareOptions =>
  ({ ...appOptions(emu), ...extra }) as BroadcastMiddlewareOptions;

describe.each(EXPRESS_VERSIONS)('router deadline on %s', (_name, express) => {
  async function serveRouter(middlewareOptions: BroadcastMiddlewareOptions, deadlineMs: number): Promise<Served> {
    const app = express();
    app.use(broadcastMiddleware(middlewareOptions));
    app.use('/broadcasts', createBroadcastRouter({ bearerToken: TOKEN, deadlineMs, logger }));
    app.use('/patient', createBroadcastRouter({ bearerToken: TOKEN, logger })); // the default deadline, 30 s
    const served = await serve(app);
    cleanups.push(() => closeBroadcast(app), () => served.close());
    return served;
  }
  const post = (served: Served, text: string) => call(seen, `${served.url}/broadcasts`, { body: { text }, headers: bearer() });

  it('503 rate_limit_unavailable when the Redis store cannot be reached (a port nothing listens on)', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: await freePort(), enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => 50 });
    redis.on('error', () => {});
    cleanups.push(() => redis.disconnect());
    const before = emu.deliveries.length;
    // onStoreError 'wait-and-retry' (the default): the limiter keeps retrying; only the deadline ends the wait
    const served = await serveRouter(options({ rateLimit: { redis, key: `deadline-${process.pid}-${Math.random()}` } }), 800);
    const answer = await post(served, 'never sent');
    expect(answer.status).toBe(503);
    expect(answer.json).toMatchObject({ error: 'rate_limit_unavailable', retryAfterSeconds: 1 });
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(emu.deliveries.length).toBe(before);
  });

  it('504 deadline_exceeded when Redis goes down and its client keeps the command waiting', async () => {
    const server = await testRedis();
    cleanups.push(() => server.dispose());
    const redis = new Redis(server.url);
    redis.on('error', () => {});
    cleanups.push(() => redis.disconnect());
    const served = await serveRouter(options({ rateLimit: { redis, key: `deadline-${process.pid}-${Math.random()}` } }), 800);
    expect((await post(served, 'while redis is up')).status).toBe(200);

    await server.kill();
    // ioredis queues the command and retries the connection for ~10 s before failing it: the deadline comes first
    const answer = await post(served, 'while redis is down');
    expect(answer.status).toBe(504);
    expect(answer.json).toEqual({
      error: 'deadline_exceeded',
      message: 'the broadcast did not finish within 800 ms; if it was still queued it was withdrawn, otherwise it may or may not have been delivered',
    });
  });

  it('504 for a broadcast that waits too long behind the rate limit; it is withdrawn, never sent', async () => {
    const served = await serveRouter(options({ rateLimit: { ratePerSecond: 1 } }), 300);
    const first = await post(served, 'first');
    expect(first.status).toBe(200);
    // the limiter's next slot is ~1 s away: this one is still queued at its 300 ms deadline
    const late = await post(served, 'too late');
    expect(late.status).toBe(504);
    expect(late.json).toMatchObject({ error: 'deadline_exceeded' });
    // had it stayed queued, it would go out before this one (the queue is FIFO, one call at a time)
    const next = await call(seen, `${served.url}/patient`, { body: { text: 'next' }, headers: bearer() });
    expect(next.status).toBe(200);
    const texts = deliveredTexts(emu);
    expect(texts.slice(-2)).toEqual(['first', 'next']);
    expect(texts).not.toContain('too late');
  });
});

describe('secrets', () => {
  it('never show up in a response body or a log line', () => {
    expect(findLeaks(seen)).toEqual([]);
  });
});
