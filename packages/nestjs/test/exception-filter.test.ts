import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Body, Controller, Get, Inject, Module, Post, type INestApplication } from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost, NestFactory } from '@nestjs/core';
import { createBroadcastRouter } from '@tim-broadcast/express';
import {
  BROADCASTER,
  BroadcastExceptionFilter,
  BroadcastModule,
  BroadcastService,
  TimBroadcastError,
  type BroadcastModuleOptions,
  type HttpErrorDescription,
} from '@tim-broadcast/nestjs';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../testing/free-port';
import { emulatorFixture, heldTransport, recordingNestLogger, type EmulatorFixture } from './helpers';

/** An error of a package this mapping does not know by class (as the outbox's will be): it describes its answer. */
class OutboxLikeError extends TimBroadcastError {
  override name = 'OutboxLikeError';
  readonly http: HttpErrorDescription = {
    status: 409,
    error: 'already_delivered',
    message: 'this broadcast was delivered already',
    retryAfterSeconds: 3,
    details: { id: 'b-1', delivered: true, nested: { no: 1 } as never },
  };
}

class UnmappedError extends TimBroadcastError {
  override name = 'UnmappedError';
}

@Controller()
class SendController {
  constructor(@Inject(BroadcastService) private readonly broadcast: BroadcastService) {}

  @Post('send')
  async send(@Body() body: unknown) {
    const { MsgSeq } = await this.broadcast.send(body as never);
    return { MsgSeq };
  }

  @Get('described')
  described() {
    throw new OutboxLikeError('delivered');
  }

  @Get('unmapped')
  unmapped() {
    throw new UnmappedError('something the mapping has no answer for');
  }

  @Get('plain')
  plain() {
    throw new Error('not from the SDK');
  }
}

type Registration = 'APP_FILTER' | 'useGlobalFilters with the adapter' | 'useGlobalFilters without the adapter';

let fx: EmulatorFixture;
let app: INestApplication | undefined;
let url: string;
const logger = recordingNestLogger();

beforeEach(async () => {
  fx = await emulatorFixture(5);
  logger.lines.length = 0;
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  await fx.emu.close();
});

async function start(options: BroadcastModuleOptions, registration: Registration = 'APP_FILTER') {
  @Module({
    imports: [BroadcastModule.forRoot(options)],
    controllers: [SendController],
    providers: registration === 'APP_FILTER' ? [{ provide: APP_FILTER, useClass: BroadcastExceptionFilter }] : [],
  })
  class AppModule {}

  app = await NestFactory.create(AppModule, { logger, abortOnError: false });
  if (registration === 'useGlobalFilters with the adapter') app.useGlobalFilters(new BroadcastExceptionFilter(app.get(HttpAdapterHost)));
  if (registration === 'useGlobalFilters without the adapter') app.useGlobalFilters(new BroadcastExceptionFilter());
  await app.listen(0, '127.0.0.1');
  url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

async function call(path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
}

const badText = { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 42 } }] };

describe.each<Registration>(['APP_FILTER', 'useGlobalFilters with the adapter', 'useGlobalFilters without the adapter'])('BroadcastExceptionFilter (%s)', (registration) => {
  it('400 naming each bad field; nothing is sent', async () => {
    await start(fx.options, registration);
    const answer = await call('/send', badText);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      error: 'invalid_request',
      message: 'invalid broadcast request',
      issues: [{ path: 'MsgBody[0].MsgContent.Text', message: expect.any(String) }],
    });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(fx.emu.deliveries).toHaveLength(0);
  });

  it('502 with the Tencent code when upstream refuses', async () => {
    await start({ ...fx.options, retry: false }, registration);
    fx.emu.setConfig({ broadcastEnabled: false }); // 10007
    const answer = await call('/send', { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'refused' } }] });
    expect(answer.status).toBe(502);
    expect(answer.json).toMatchObject({ error: 'upstream_error', code: 10007, category: 'config', info: expect.any(String) });
    expect(JSON.stringify(answer.json)).not.toContain(fx.secretKey);
  });

  it('an SDK error of another package answers as its http description says', async () => {
    await start(fx.options, registration);
    const answer = await call('/described');
    expect(answer.status).toBe(409);
    expect(answer.headers.get('retry-after')).toBe('3');
    expect(answer.json).toEqual({ error: 'already_delivered', message: 'this broadcast was delivered already', id: 'b-1', delivered: true, retryAfterSeconds: 3 });
  });

  it('an SDK error without an answer gives a generic 500 and is logged', async () => {
    await start(fx.options, registration);
    const answer = await call('/unmapped');
    expect(answer.status).toBe(500);
    expect(answer.json).toEqual({ error: 'internal_error', message: 'internal error' });
    expect(logger.lines).toContainEqual({
      level: 'error',
      message: 'broadcast request failed: UnmappedError: something the mapping has no answer for',
      context: 'BroadcastExceptionFilter',
    });
  });

  it('other errors are left to Nest', async () => {
    await start(fx.options, registration);
    const answer = await call('/plain');
    expect(answer.status).toBe(500);
    expect(answer.json).toEqual({ statusCode: 500, message: 'Internal server error' });
  });
});

describe('BroadcastExceptionFilter', () => {
  it('429 with Retry-After estimated from the queue of the registration that refused', async () => {
    const transport = heldTransport();
    await start({ ...fx.options, transport, maxQueued: 2, rateLimit: { ratePerSecond: 1 } });
    const broadcaster = app!.get(BROADCASTER);
    const pending: ReturnType<typeof call>[] = [];
    // one in flight (held by the transport), then two queued: the queue is full
    for (const [text, counted] of [['held', () => broadcaster.health().inFlight === 1], ['q1', () => broadcaster.health().queued === 1], ['q2', () => broadcaster.health().queued === 2]] as const) {
      pending.push(call('/send', { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }] }));
      while (!counted()) await new Promise((r) => setTimeout(r, 5));
    }
    const full = await call('/send', { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'refused' } }] });
    expect(full.status).toBe(429);
    expect(full.json).toMatchObject({ error: 'queue_full', retryAfterSeconds: 3 }); // 3 pending at 1 call/s
    expect(full.headers.get('retry-after')).toBe('3');
    transport.release();
    expect((await Promise.all(pending)).map((a) => a.status)).toEqual([201, 201, 201]);
  });

  it('503 shutting_down once the broadcaster is closed', async () => {
    await start(fx.options);
    await app!.get(BROADCASTER).close();
    const answer = await call('/send', { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'late' } }] });
    expect(answer.status).toBe(503);
    expect(answer.json).toMatchObject({ error: 'shutting_down' });
  });

  it('503 rate_limit_unavailable with Retry-After when the Redis store cannot be reached', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: await freePort(), enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      await start({ ...fx.options, rateLimit: { redis, onStoreError: 'fail', key: `filter-test-${process.pid}` } });
      const answer = await call('/send', { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'no store' } }] });
      expect(answer.status).toBe(503);
      expect(answer.json).toMatchObject({ error: 'rate_limit_unavailable', retryAfterSeconds: 1 });
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(fx.emu.deliveries).toHaveLength(0);
    } finally {
      redis.disconnect();
    }
  });

  it('504 when Tencent does not answer in time', async () => {
    await start({ ...fx.options, timeoutMs: 200, retry: false });
    fx.emu.setFaults({ script: ['slow'], slowMs: 2_000 });
    const answer = await call('/send', { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'slow' } }] });
    expect(answer.status).toBe(504);
    expect(answer.json).toMatchObject({ error: 'upstream_timeout' });
    expect(logger.lines.some((l) => l.level === 'warn' && l.message === 'broadcast failed: 504 upstream_timeout')).toBe(true);
  });
});

describe('one mapping for both frameworks', () => {
  let router: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => router?.close(resolve));
    router = undefined;
  });

  it('the Nest filter and the Express router answer the same errors identically', async () => {
    await start({ ...fx.options, retry: false });
    const handler = createBroadcastRouter({ broadcast: app!.get(BROADCASTER), allowUnauthenticated: true, logger: { warn() {} } });
    router = createServer((req, res) => handler(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((resolve) => router!.listen(0, '127.0.0.1', resolve));
    const routerUrl = `http://127.0.0.1:${(router.address() as AddressInfo).port}`;
    const both = async (body: unknown) => {
      const nest = await call('/send', body);
      const res = await fetch(routerUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { nest: [nest.status, nest.json], express: [res.status, await res.json()] };
    };

    const invalid = await both(badText);
    expect(invalid.nest).toEqual(invalid.express);
    fx.emu.setConfig({ broadcastEnabled: false });
    const refused = await both({ MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'refused' } }] });
    expect(refused.nest[0]).toBe(502);
    expect(refused.nest).toEqual(refused.express);
    await app!.get(BROADCASTER).close();
    const closed = await both({ MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'closed' } }] });
    expect(closed.nest[0]).toBe(503);
    expect(closed.nest).toEqual(closed.express);
  });
});
