import { Controller, Inject, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { QueueClosedError, text } from '@tim-broadcast/core';
import { BROADCASTER, BroadcastModule, BroadcastService } from '@tim-broadcast/nestjs';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectionsNamed, REDIS_URL } from '../../../testing/redis-server';
import { deliveredTexts, emulatorFixture, type EmulatorFixture } from './helpers';

let fx: EmulatorFixture;

beforeEach(async () => {
  fx = await emulatorFixture(2);
});

afterEach(async () => {
  await fx.emu.close();
});

describe('application shutdown', () => {
  it('drains every queued broadcast before close() resolves', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [BroadcastModule.forRoot(fx.options)] }).compile();
    await moduleRef.init();
    const service = moduleRef.get(BroadcastService);
    const texts = ['one', 'two', 'three', 'four'];
    const sends = texts.map((t) => service.send({ MsgBody: [text(t)] }));
    expect(service.health().queued + service.health().inFlight).toBe(4);

    await moduleRef.close(); // at 2 calls/s this takes ~1.5 s; nothing is awaited before
    const outcomes = await Promise.allSettled(sends);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(deliveredTexts(fx.emu).sort()).toEqual([...texts].sort());
    expect(service.health().status).toBe('down');
  });

  it('app.close() resolves only after the drain finished: the drain is awaited, not left running in the background', async () => {
    // answers come 400 ms late and the limiter allows 2 calls/s: draining four broadcasts takes ~1.9 s
    fx.emu.setFaults({ rate: 1, kinds: ['slow'], slowMs: 400 });
    @Module({ imports: [BroadcastModule.forRoot(fx.options)] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    const service = app.get(BroadcastService);

    const events: string[] = [];
    const texts = ['one', 'two', 'three', 'four'];
    const sends = texts.map((t) =>
      service.send({ MsgBody: [text(t)] }).then(
        () => events.push(`delivered ${t}`),
        (err: Error) => events.push(`failed ${t}: ${err.name}`),
      ),
    );
    await app.close();
    events.push('app.close() resolved');
    await Promise.all(sends);
    expect(events).toEqual(['delivered one', 'delivered two', 'delivered three', 'delivered four', 'app.close() resolved']);
  });

  it('bounds the drain by shutdownTimeoutMs and rejects what is left with QueueClosedError', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BroadcastModule.forRoot({ ...fx.options, rateLimit: { ratePerSecond: 1 }, shutdownTimeoutMs: 300 })],
    }).compile();
    await moduleRef.init();
    const service = moduleRef.get(BroadcastService);
    await service.send({ MsgBody: [text('first')] }); // the limiter's next slot is now ~1 s away
    const sends = ['b', 'c', 'd', 'e'].map((t) => service.send({ MsgBody: [text(t)] }));

    await moduleRef.close(); // the bound (0.3 s) ends before the next slot
    const outcomes = await Promise.allSettled(sends);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(QueueClosedError);
    }
    expect(deliveredTexts(fx.emu)).toEqual(['first']);
  });

  it('sends after shutdown began are refused with QueueClosedError', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [BroadcastModule.forRoot(fx.options)] }).compile();
    await moduleRef.init();
    const service = moduleRef.get(BroadcastService);
    await moduleRef.close();
    await expect(service.send({ MsgBody: [text('too late')] })).rejects.toBeInstanceOf(QueueClosedError);
    expect(fx.emu.deliveries).toHaveLength(0);
  });

  it('in an HTTP app, requests waiting on send() get their answers before the server closes', async () => {
    @Controller()
    class SendController {
      constructor(@Inject(BroadcastService) private readonly broadcast: BroadcastService) {}
      @Post('send')
      async send() {
        const { MsgSeq } = await this.broadcast.send({ MsgBody: [text(`http-${Math.random()}`)] });
        return { MsgSeq };
      }
    }
    @Module({ imports: [BroadcastModule.forRoot({ ...fx.options, rateLimit: { ratePerSecond: 1 } })], controllers: [SendController] })
    class AppModule {}

    const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const requests = Array.from({ length: 3 }, () => fetch(`${url}/send`, { method: 'POST' }));
    const broadcaster = app.get(BROADCASTER);
    const pending = () => broadcaster.health().queued + broadcaster.health().inFlight;
    while (fx.emu.deliveries.length + pending() < 3) await new Promise((r) => setTimeout(r, 10));
    expect(pending()).toBeGreaterThanOrEqual(1); // at 1 call/s the last one waits ~2 s

    await app.close();
    const responses = await Promise.all(requests);
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201]);
    const seqs = await Promise.all(responses.map(async (r) => ((await r.json()) as { MsgSeq: number }).MsgSeq));
    expect(seqs.sort()).toEqual(fx.emu.deliveries.map((d) => d.MsgSeq).sort());
  });
});

describe.skipIf(!process.env.REDIS_URL)('shared limiter in Redis', () => {
  const redisUrl = REDIS_URL;

  it('a Redis URL: the limiter uses the redis store, and the connection it opened is closed on shutdown', async () => {
    const name = `tim-nestjs-test-${process.pid}-${Date.now()}`;
    const url = new URL(redisUrl);
    url.searchParams.set('connectionName', name);
    const moduleRef = await Test.createTestingModule({
      imports: [BroadcastModule.forRoot({ ...fx.options, rateLimit: { ratePerSecond: 2, redis: url.href, key: name } })],
    }).compile();
    await moduleRef.init();
    const service = moduleRef.get(BroadcastService);
    await service.send({ MsgBody: [text('via redis limiter')] });
    expect(service.health().limiter).toMatchObject({ store: 'redis', ratePerSecond: 2 });

    const observer = new Redis(redisUrl);
    try {
      expect(await connectionsNamed(observer, name)).toBe(1);
      await moduleRef.close();
      expect(await connectionsNamed(observer, name)).toBe(0);
    } finally {
      observer.disconnect();
    }
    expect(deliveredTexts(fx.emu)).toEqual(['via redis limiter']);
  });

  it('a Redis client you pass stays open after shutdown', async () => {
    const redis = new Redis(redisUrl);
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [BroadcastModule.forRoot({ ...fx.options, rateLimit: { redis, key: `tim-nestjs-test-${process.pid}-${Date.now()}` } })],
      }).compile();
      await moduleRef.init();
      await moduleRef.get(BroadcastService).send({ MsgBody: [text('own client')] });
      await moduleRef.close();
      expect(await redis.ping()).toBe('PONG');
      expect(deliveredTexts(fx.emu)).toEqual(['own client']);
    } finally {
      redis.disconnect();
    }
  });
});
