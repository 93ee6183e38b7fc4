import 'reflect-metadata';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TerminusModule, type HealthIndicatorResult } from '@nestjs/terminus';
import { text } from '@tim-broadcast/core';
import { startEmulator } from '@tim-broadcast/emulator';
import { BroadcastModule, BroadcastService, type BroadcastModuleRootOptions, type QueueResult } from '@tim-broadcast/nestjs';
import { BroadcastHealthIndicator } from '@tim-broadcast/nestjs/health';
import { assert, main } from './harness.js';

const app = { sdkAppId: 1400000004, secretKey: 'compat-nestjs-secret', identifier: 'administrator' };

@Controller()
class AnnounceController {
  constructor(
    private readonly broadcast: BroadcastService,
    private readonly health: BroadcastHealthIndicator,
  ) {}

  @Get('announce')
  async announce(): Promise<Pick<QueueResult, 'MsgSeq' | 'batchSize'>> {
    const { MsgSeq, batchSize } = await this.broadcast.send({ MsgBody: [text('compat nest')] });
    return { MsgSeq, batchSize };
  }

  @Get('health')
  check(): HealthIndicatorResult<'broadcast'> {
    return this.health.isHealthy();
  }
}

main('nestjs', async () => {
  const emu = await startEmulator({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 100 });
  const options: BroadcastModuleRootOptions = { ...app, baseUrl: emu.url, rateLimit: { ratePerSecond: 50 } };

  @Module({ imports: [BroadcastModule.forRoot(options), TerminusModule], controllers: [AnnounceController], providers: [BroadcastHealthIndicator] })
  class AppModule {}

  const nest: INestApplication = await NestFactory.create(AppModule, { logger: false });
  let closed = false;
  try {
    await nest.listen(0, '127.0.0.1');
    const base = (await nest.getUrl()).replace('[::1]', '127.0.0.1');
    const res = await fetch(`${base}/announce`);
    const body = (await res.json()) as { MsgSeq: number };
    assert(res.status === 200, JSON.stringify(body));
    assert(emu.deliveries.length === 1 && emu.deliveries[0]?.MsgSeq === body.MsgSeq, `deliveries ${JSON.stringify(emu.deliveries)}`);
    const health = (await (await fetch(`${base}/health`)).json()) as { broadcast?: { status: string } };
    assert(health.broadcast?.status === 'up', JSON.stringify(health));

    const service = nest.get(BroadcastService);
    const direct: QueueResult = await service.send({ MsgBody: [text('compat nest direct')] });
    assert(emu.deliveries[1]?.MsgSeq === direct.MsgSeq, 'direct send was not delivered');
    await nest.close();
    closed = true;
    assert(service.health().status === 'down', 'app.close() did not close the broadcaster');
  } finally {
    if (!closed) await nest.close();
    await emu.close();
  }
});
