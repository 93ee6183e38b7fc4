import { ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test, type TestingModule } from '@nestjs/testing';
import { ApiError, text } from '@tim-broadcast/core';
import { BroadcastModule, BroadcastService } from '@tim-broadcast/nestjs';
import { BroadcastHealthIndicator } from '@tim-broadcast/nestjs/health';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emulatorFixture, type EmulatorFixture } from './helpers';

let fx: EmulatorFixture;
let moduleRef: TestingModule;

beforeEach(async () => {
  fx = await emulatorFixture(5);
  moduleRef = await Test.createTestingModule({
    imports: [BroadcastModule.forRoot({ ...fx.options, retry: false }), TerminusModule.forRoot({ logger: false })],
    providers: [BroadcastHealthIndicator],
  }).compile();
  await moduleRef.init();
});

afterEach(async () => {
  await moduleRef.close();
  await fx.emu.close();
});

const check = () => {
  const indicator = moduleRef.get(BroadcastHealthIndicator);
  return moduleRef.get(HealthCheckService).check([() => indicator.isHealthy('broadcast')]);
};

describe('BroadcastHealthIndicator', () => {
  it('reports up with queue depth and limiter state', async () => {
    const result = await check();
    expect(result.status).toBe('ok');
    expect(result.details.broadcast).toEqual({
      status: 'up',
      queued: 0,
      inFlight: 0,
      limiter: expect.objectContaining({ store: 'memory', ratePerSecond: 5, waiting: 0 }),
    });
  });

  it('reports the queue depth while broadcasts wait', async () => {
    const service = moduleRef.get(BroadcastService);
    const sends = ['a', 'b', 'c'].map((t) => service.send({ MsgBody: [text(t)] }));
    const details = (await check()).details.broadcast!;
    expect(Number(details.queued) + Number(details.inFlight)).toBe(3);
    await Promise.all(sends);
    expect((await check()).details.broadcast).toMatchObject({ queued: 0, inFlight: 0 });
  });

  it('reports the last upstream error without secrets', async () => {
    fx.emu.setConfig({ broadcastEnabled: false }); // the API answers 10007
    const failure = await moduleRef
      .get(BroadcastService)
      .send({ MsgBody: [text('refused')] })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApiError);

    const result = await check();
    const lastError = result.details.broadcast!.lastError as { name: string; code: number; at: string; message: string };
    expect(lastError).toMatchObject({ name: 'ApiError', code: (failure as ApiError).code });
    expect(Number.isNaN(Date.parse(lastError.at))).toBe(false);
    expect(JSON.stringify(result)).not.toContain(fx.secretKey);
  });

  it('is down once the broadcaster is closed, and terminus answers 503', async () => {
    await moduleRef.get(BroadcastService).beforeApplicationShutdown();
    const error = await check().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ServiceUnavailableException);
    const body = (error as ServiceUnavailableException).getResponse() as { status: string; error: Record<string, { status: string }> };
    expect(body.status).toBe('error');
    expect(body.error.broadcast!.status).toBe('down');
  });

  it('uses the key it is given', async () => {
    const indicator = moduleRef.get(BroadcastHealthIndicator);
    expect(Object.keys(await indicator.isHealthy('tim'))).toEqual(['tim']);
    expect(Object.keys(await indicator.isHealthy())).toEqual(['broadcast']);
  });
});
