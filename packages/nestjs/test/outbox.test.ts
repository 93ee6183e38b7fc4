import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Body, Controller, Get, HttpCode, Inject, Module, Param, Post, Query, Res, type DynamicModule, type INestApplication } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import {
  BroadcastExceptionFilter,
  BroadcastModule,
  BroadcastService,
  getBroadcastServiceToken,
  InjectBroadcast,
  text,
  ValidationError,
  type BroadcastModuleOptions,
  type OutboxStatus,
} from '@tim-broadcast/nestjs';
import { BroadcastHealthIndicator } from '@tim-broadcast/nestjs/health';
import { OutboxNotFoundError } from '@tim-broadcast/outbox';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { untilValue } from '../../../testing/promises';
import { connectionsNamed, REDIS_URL } from '../../../testing/redis-server';
import { deliveredTexts, emulatorFixture, recordingNestLogger, secondFixture, type EmulatorFixture } from './helpers';

// The outbox option of BroadcastModule, in real Nest apps on port 0, against the emulator and a real redis-server
// (REDIS_URL; the one CI starts).

interface ServerResponseLike {
  setHeader(name: string, value: string): void;
}

/** The 202 flow an app would build on BroadcastService: POST enqueues, GET reads the status. */
@Controller('broadcasts')
class BroadcastsController {
  constructor(@Inject(BroadcastService) private readonly broadcast: BroadcastService) {}

  @Post()
  @HttpCode(202)
  async create(@Body() body: { text: string }, @Res({ passthrough: true }) res: ServerResponseLike) {
    const { id } = await this.broadcast.enqueue({ MsgBody: [text(body.text)] });
    res.setHeader('location', `/broadcasts/${id}`);
    return { id };
  }

  @Get(':id')
  async status(@Param('id') id: string): Promise<OutboxStatus> {
    const status = await this.broadcast.status(id);
    if (!status) throw new OutboxNotFoundError(id);
    return status;
  }

  @Get(':id/wait')
  wait(@Param('id') id: string, @Query('timeoutMs') timeoutMs?: string) {
    return this.broadcast.wait(id, timeoutMs ? { timeoutMs: Number(timeoutMs) } : {});
  }
}

const apps: INestApplication[] = [];
const logger = recordingNestLogger();
let observer: Redis;

beforeAll(() => {
  observer = new Redis(REDIS_URL);
});
afterAll(() => observer.quit());
afterEach(async () => {
  for (const app of apps.splice(0).reverse()) await app.close();
});

/** A unique outbox name and limiter key, so runs sharing the redis-server never meet. */
function isolated(fx: EmulatorFixture, outbox: Partial<NonNullable<BroadcastModuleOptions['outbox']>> = {}, name = `nest-${randomUUID()}`): BroadcastModuleOptions {
  return {
    ...fx.options,
    rateLimit: { ratePerSecond: 5, key: `limit-${name}` },
    // redisTimeoutMs: slack for a loaded host (an event loop held up by module loading must not time out a local Redis)
    outbox: { redis: REDIS_URL, name, leaseMs: 2_000, redisTimeoutMs: 15_000, ...outbox },
  };
}

async function boot(imports: DynamicModule[], extra: { controllers?: boolean; health?: boolean } = {}): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [...imports, ...(extra.health ? [TerminusModule.forRoot({ logger: false })] : [])],
    controllers: extra.controllers === false ? [] : [BroadcastsController],
    providers: [{ provide: APP_FILTER, useClass: BroadcastExceptionFilter }, ...(extra.health ? [BroadcastHealthIndicator] : [])],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger, abortOnError: false });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

async function call(url: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
}

let fx: EmulatorFixture;
beforeEach(async () => {
  fx = await emulatorFixture(5);
  logger.lines.length = 0;
});
afterEach(() => fx.emu.close());

describe('BroadcastModule with an outbox', () => {
  it('POST answers 202 { id } with Location; GET reads the status until delivered, through the deliverer the app started', async () => {
    const { url } = await boot([BroadcastModule.forRoot(isolated(fx))]);
    const accepted = await call(url, '/broadcasts', { text: 'doors open' });
    expect(accepted.status).toBe(202);
    expect(accepted.json).toEqual({ id: expect.any(String) });
    const { id } = accepted.json as { id: string };
    expect(accepted.headers.get('location')).toBe(`/broadcasts/${id}`);

    const delivered = await untilValue(() => call(url, `/broadcasts/${id}`), (r) => r.json.state === 'delivered', 'the broadcast to be delivered');
    expect(delivered.status).toBe(200);
    expect(delivered.json).toMatchObject({ id, state: 'delivered', MsgSeq: expect.any(Number), Random: expect.any(Number), attempts: 1 });
    expect(deliveredTexts(fx.emu)).toEqual(['doors open']);

    const waited = await call(url, `/broadcasts/${id}/wait`);
    expect(waited.json).toMatchObject({ id, state: 'delivered', MsgSeq: delivered.json.MsgSeq });
  });

  it('the limiter shares the outbox Redis unless rateLimit names one', async () => {
    const { app } = await boot([BroadcastModule.forRoot(isolated(fx))], { controllers: false });
    expect(app.get(BroadcastService).health().limiter).toMatchObject({ store: 'redis', ratePerSecond: 5 });
  });

  it('an enqueue-only registration (deliver: false) never sends; a delivering app instance delivers what it enqueued', async () => {
    const options = isolated(fx, { deliver: false });
    const { app: web } = await boot([BroadcastModule.forRoot(options)], { controllers: false });
    const service = web.get(BroadcastService);
    const { id } = await service.enqueue({ MsgBody: [text('from the web tier')] });
    // a wait bounded well past the time a delivery takes here: it must run out, and nothing reaches the emulator
    await expect(service.wait(id, { timeoutMs: 1_500 })).rejects.toMatchObject({ name: 'OutboxWaitTimeoutError' });
    expect(fx.emu.deliveries).toHaveLength(0);
    expect(await service.status(id)).toMatchObject({ state: 'queued' });
    expect(service.outbox!.delivering).toBe(false);

    const { app: worker } = await boot([BroadcastModule.forRoot({ ...options, outbox: { ...options.outbox!, deliver: true } })], { controllers: false });
    expect(await service.wait(id, { timeoutMs: 15_000 })).toMatchObject({ state: 'delivered' });
    expect(deliveredTexts(fx.emu)).toEqual(['from the web tier']);
    expect(worker.get(BroadcastService).outbox!.delivering).toBe(true);
  });

  it('shutdown stops the deliverer and leaves the rest queued; a second app instance delivers it, each broadcast once', async () => {
    // 1 call/s: the backlog takes seconds, so the first app is closed in the middle of it
    const slow = await emulatorFixture(1);
    try {
      const options = { ...isolated(slow), rateLimit: { ratePerSecond: 1, key: `limit-${randomUUID()}` } };
      const { app: first } = await boot([BroadcastModule.forRoot(options)], { controllers: false });
      const service = first.get(BroadcastService);
      const texts = Array.from({ length: 6 }, (_, i) => `backlog ${i}`);
      const ids: string[] = [];
      for (const t of texts) ids.push((await service.enqueue({ MsgBody: [text(t)] })).id);
      await untilValue(async () => slow.emu.deliveries.length, (n) => n >= 1, 'the first delivery');

      await first.close();
      apps.splice(apps.indexOf(first), 1);
      const sentByFirst = slow.emu.deliveries.length;
      expect(sentByFirst).toBeLessThan(texts.length);
      expect(logger.lines.some((l) => l.message.includes('stopping the outbox deliverer'))).toBe(true);

      // the broadcasts left are still in Redis, not final: read them through an enqueue-only instance
      const { app: reader } = await boot([BroadcastModule.forRoot({ ...options, outbox: { ...options.outbox!, deliver: false } })], { controllers: false });
      const states = await Promise.all(ids.map(async (id) => (await reader.get(BroadcastService).status(id))!.state));
      expect(states.filter((s) => s === 'delivered')).toHaveLength(sentByFirst);
      expect(states.filter((s) => s !== 'delivered').every((s) => s === 'queued' || s === 'sending')).toBe(true);

      const { app: second } = await boot([BroadcastModule.forRoot(options)], { controllers: false });
      for (const id of ids) expect(await second.get(BroadcastService).wait(id, { timeoutMs: 20_000 })).toMatchObject({ state: 'delivered' });
      expect(deliveredTexts(slow.emu).sort()).toEqual([...texts].sort());
    } finally {
      await slow.emu.close();
    }
  });

  it('named registrations each have their own outbox; one without the option refuses enqueue() with a 500', async () => {
    const eu = await secondFixture(5);
    try {
      @Controller('eu')
      class EuController {
        constructor(@InjectBroadcast('eu') private readonly euBroadcast: BroadcastService) {}
        @Post()
        @HttpCode(202)
        create(@Body() body: { text: string }) {
          return this.euBroadcast.enqueue({ MsgBody: [text(body.text)] });
        }
      }
      @Module({
        imports: [BroadcastModule.forRoot(fx.options), BroadcastModule.forRoot({ name: 'eu', ...isolated(eu) })],
        controllers: [EuController, BroadcastsController],
        providers: [{ provide: APP_FILTER, useClass: BroadcastExceptionFilter }],
      })
      class AppModule {}
      const app = await NestFactory.create(AppModule, { logger, abortOnError: false });
      apps.push(app);
      await app.listen(0, '127.0.0.1');
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');

      const accepted = await call(url, '/eu', { text: 'to eu' });
      expect(accepted).toMatchObject({ status: 202, json: { id: expect.any(String), duplicate: false } });
      const euService = app.get<BroadcastService>(getBroadcastServiceToken('eu'));
      expect(await euService.wait(accepted.json.id, { timeoutMs: 15_000 })).toMatchObject({ state: 'delivered' });
      expect(deliveredTexts(eu.emu)).toEqual(['to eu']);

      // the unnamed registration has no outbox
      const refused = await call(url, '/broadcasts', { text: 'nowhere' });
      expect(refused).toMatchObject({ status: 500, json: { error: 'internal_error' } });
      expect(logger.lines.some((l) => l.message.includes('BroadcastService.enqueue() needs an outbox'))).toBe(true);
      expect(fx.emu.deliveries).toHaveLength(0);
    } finally {
      await eu.emu.close();
    }
  });

  it('forRootAsync: the outbox Redis URL gets its own connection, quit at shutdown', async () => {
    const options = isolated(fx);
    const { app } = await boot([BroadcastModule.forRootAsync({ useFactory: async () => options })], { controllers: false });
    const service = app.get(BroadcastService);
    const { id } = await service.enqueue({ MsgBody: [text('async config')] });
    expect(await service.wait(id, { timeoutMs: 15_000 })).toMatchObject({ state: 'delivered' });
    const connections = () => connectionsNamed(observer, 'tim-broadcast-outbox');
    expect(await connections()).toBeGreaterThan(0);
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    await untilValue(connections, (n) => n === 0, 'the outbox connections to close', 5_000);
  });

  it('a Redis client of your own is used as is and never closed', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const options = isolated(fx, { redis });
      const { app } = await boot([BroadcastModule.forRoot(options)], { controllers: false });
      const { id } = await app.get(BroadcastService).enqueue({ MsgBody: [text('own client')] });
      expect(await app.get(BroadcastService).wait(id, { timeoutMs: 15_000 })).toMatchObject({ state: 'delivered' });
      await app.close();
      apps.splice(apps.indexOf(app), 1);
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });
});

describe('outbox errors through BroadcastExceptionFilter', () => {
  it('404 broadcast_not_found for an unknown id', async () => {
    const { url } = await boot([BroadcastModule.forRoot(isolated(fx))]);
    expect(await call(url, '/broadcasts/no-such-id')).toMatchObject({ status: 404, json: { error: 'broadcast_not_found' } });
    expect(await call(url, '/broadcasts/no-such-id/wait')).toMatchObject({ status: 404, json: { error: 'broadcast_not_found' } });
  });

  it('504 wait_timeout while it is still on its way', async () => {
    const { url } = await boot([BroadcastModule.forRoot(isolated(fx, { deliver: false }))]);
    const { json } = await call(url, '/broadcasts', { text: 'waits' });
    const answer = await call(url, `/broadcasts/${json.id}/wait?timeoutMs=100`);
    expect(answer).toMatchObject({ status: 504, json: { error: 'wait_timeout', id: json.id } });
  });

  it('502 delivery_failed with the upstream code when the API refuses the content', async () => {
    const { url } = await boot([BroadcastModule.forRoot({ ...isolated(fx), baseUrl: await refusingUpstream(80001) } as BroadcastModuleOptions)]);
    const { json } = await call(url, '/broadcasts', { text: 'refused for good' });
    const answer = await call(url, `/broadcasts/${json.id}/wait`);
    expect(answer).toMatchObject({ status: 502, json: { error: 'delivery_failed', id: json.id, code: 80001 } });
  });

  it('503 outbox_unavailable with Retry-After when Redis does not answer', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { retryStrategy: () => 100 });
    dead.on('error', () => {});
    try {
      const { url } = await boot([BroadcastModule.forRoot(isolated(fx, { redis: dead, deliver: false, redisTimeoutMs: 200 }))]);
      const answer = await call(url, '/broadcasts', { text: 'lost?' });
      expect(answer).toMatchObject({ status: 503, json: { error: 'outbox_unavailable', retryAfterSeconds: 1 } });
      expect(answer.headers.get('retry-after')).toBe('1');
    } finally {
      dead.disconnect();
    }
  });
});

describe('shutdown with the outbox Redis unreachable', () => {
  it('app.close() resolves: the connection made from the URL is dropped, not left waiting to say goodbye', async () => {
    // nothing listens on port 1; the enqueue's commands stay queued in the client while it tries to reconnect
    const { app, url } = await boot([BroadcastModule.forRoot(isolated(fx, { redis: 'redis://127.0.0.1:1', deliver: false, redisTimeoutMs: 200 }))]);
    expect(await call(url, '/broadcasts', { text: 'nowhere' })).toMatchObject({ status: 503, json: { error: 'outbox_unavailable' } });
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(app.get(BroadcastService).outbox!.delivering).toBe(false);
  });

  it('app.close() resolves at once, without a warning, after a wait() while the outbox Redis is unreachable', async () => {
    const options = { ...isolated(fx, { redis: 'redis://127.0.0.1:1', deliver: false, redisTimeoutMs: 200 }), shutdownTimeoutMs: 300 };
    const { app } = await boot([BroadcastModule.forRoot(options)], { controllers: false });
    await expect(app.get(BroadcastService).wait('some-id')).rejects.toMatchObject({ name: 'OutboxRedisError' });
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    // were the outbox's close to hang on its subscriber, the shutdown guard would warn after 2,300 ms
    expect(logger.lines.filter((l) => l.message.includes('did not close'))).toEqual([]);
  });
});

describe('health', () => {
  it('reports the backlog and the oldest age of each registration, and is down when the outbox Redis is unreachable', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { retryStrategy: () => 100 });
    dead.on('error', () => {});
    const eu = await secondFixture(5);
    try {
      const { app } = await boot(
        [
          BroadcastModule.forRoot(isolated(fx, { deliver: false })),
          BroadcastModule.forRoot({ name: 'eu', ...isolated(eu, { redis: dead, deliver: false, redisTimeoutMs: 200 }), rateLimit: { ratePerSecond: 5, redis: REDIS_URL } }),
        ],
        { controllers: false, health: true },
      );
      const service = app.get(BroadcastService);
      await service.enqueue({ MsgBody: [text('one')] });
      await service.enqueue({ MsgBody: [text('two')] });
      const indicator = app.get(BroadcastHealthIndicator);
      const main = await indicator.isHealthy('main');
      expect(main.main).toMatchObject({ status: 'up', queued: 0, outbox: { status: 'up', delivering: false, queued: 2, backlog: 2, deliverers: 0 } });
      expect(main.main.outbox).toHaveProperty('oldestAgeMs', expect.any(Number));

      const error = await app
        .get(HealthCheckService)
        .check([() => indicator.isHealthy('main'), () => indicator.isHealthy('eu', { name: 'eu' })])
        .catch((err: { getResponse(): unknown }) => err.getResponse());
      expect(error).toMatchObject({ status: 'error', details: { main: { status: 'up' }, eu: { status: 'down', outbox: { status: 'down', lastError: { name: 'OutboxRedisError' } } } } });
    } finally {
      dead.disconnect();
      await eu.emu.close();
    }
  });
});

describe('options', () => {
  async function startupError(options: BroadcastModuleOptions): Promise<ValidationError> {
    @Module({ imports: [BroadcastModule.forRoot(options)] })
    class AppModule {}
    const err = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }

  it('the outbox fields are checked with the broadcaster options, each named', async () => {
    const err = await startupError({ ...fx.options, sdkAppId: -1, outbox: { redis: 'http://127.0.0.1:6379', deliver: 'yes' as never, client: {} } as never });
    expect(err.issues.map((i) => i.path.join('.'))).toEqual(['outbox.redis', 'outbox.deliver', 'outbox.client', 'sdkAppId']);
  });

  it("the outbox's own options are checked by the outbox, named under outbox.", async () => {
    const err = await startupError(isolated(fx, { coalesc: true, leaseMs: 10 } as never));
    expect(err.message).toContain("invalid BroadcastModule options: outbox.coalesc: unknown option (did you mean 'coalesce'?)");
    expect(err.issues.map((i) => i.path.join('.'))).toEqual(['outbox.coalesc', 'outbox.leaseMs']);
  });
});

/** An upstream that refuses every call's content (ErrorCode `code`): a broadcast sent alone ends failed. */
async function refusingUpstream(code: number): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: 'refused by the content filter' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
