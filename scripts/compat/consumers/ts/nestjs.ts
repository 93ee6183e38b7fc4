import 'reflect-metadata';
import { Controller, Get, Module, Post, type INestApplication } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { HealthCheckService, TerminusModule, type HealthCheckResult } from '@nestjs/terminus';
import { startEmulator } from '@tim-broadcast/emulator';
import {
  BroadcastExceptionFilter,
  BroadcastModule,
  BroadcastService,
  getBroadcasterToken,
  InjectBroadcast,
  type Broadcaster,
  text,
  type BroadcastModuleRootOptions,
  type QueueResult,
} from '@tim-broadcast/nestjs';
import { BroadcastHealthIndicator, type BroadcastHealthResult } from '@tim-broadcast/nestjs/health';
import { assert, main } from './harness.js';

const app = { sdkAppId: 1400000004, secretKey: 'compat-nestjs-secret', identifier: 'administrator' };
const eu = { sdkAppId: 1400000014, secretKey: 'compat-nestjs-eu-secret', identifier: 'administrator' };

@Controller()
class AnnounceController {
  constructor(
    private readonly broadcast: BroadcastService,
    @InjectBroadcast('eu') private readonly eu: BroadcastService,
    private readonly health: BroadcastHealthIndicator,
    private readonly terminus: HealthCheckService,
  ) {}

  @Get('terminus')
  terminusCheck(): Promise<HealthCheckResult> {
    return this.terminus.check([() => this.health.isHealthy('broadcast'), () => this.health.isHealthy('eu', { name: 'eu' })]);
  }

  @Get('announce')
  async announce(): Promise<Pick<QueueResult, 'MsgSeq' | 'batchSize'>> {
    const { MsgSeq, batchSize } = await this.broadcast.send({ MsgBody: [text('compat nest')] });
    return { MsgSeq, batchSize };
  }

  @Post('eu')
  async toEu(): Promise<Pick<QueueResult, 'MsgSeq'>> {
    const { MsgSeq } = await this.eu.send({ MsgBody: [text('compat nest eu')] });
    return { MsgSeq };
  }

  @Get('invalid')
  async invalid(): Promise<QueueResult> {
    return this.broadcast.send({ MsgBody: [] });
  }

  @Get('health')
  async check(): Promise<BroadcastHealthResult<'broadcast' | 'eu'>> {
    return { ...(await this.health.isHealthy()), ...(await this.health.isHealthy('eu', { name: 'eu' })) };
  }
}

main('nestjs', async () => {
  const emu = await startEmulator({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 100 });
  const euEmu = await startEmulator({ sdkAppId: eu.sdkAppId, secretKey: eu.secretKey, admin: eu.identifier, ratePerSecond: 100 });
  const options: BroadcastModuleRootOptions = { ...app, baseUrl: emu.url, rateLimit: { ratePerSecond: 50 } };

  @Module({
    imports: [BroadcastModule.forRoot(options), BroadcastModule.forRootAsync({ name: 'eu', useFactory: () => ({ ...eu, baseUrl: euEmu.url }) }), TerminusModule],
    controllers: [AnnounceController],
    providers: [BroadcastHealthIndicator, { provide: APP_FILTER, useClass: BroadcastExceptionFilter }],
  })
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
    const toEu = await fetch(`${base}/eu`, { method: 'POST' });
    const euBody = (await toEu.json()) as { MsgSeq: number };
    assert(toEu.status === 201 && euEmu.deliveries[0]?.MsgSeq === euBody.MsgSeq, `eu: ${toEu.status} ${JSON.stringify(euBody)}`);
    const invalid = await fetch(`${base}/invalid`);
    const problem = (await invalid.json()) as { error: string; issues: { path: string }[] };
    assert(invalid.status === 400 && problem.error === 'invalid_request' && problem.issues[0]?.path === 'MsgBody', `invalid: ${invalid.status} ${JSON.stringify(problem)}`);
    const health = (await (await fetch(`${base}/health`)).json()) as Record<string, { status: string }>;
    assert(health.broadcast?.status === 'up' && health.eu?.status === 'up', JSON.stringify(health));
    const up = await fetch(`${base}/terminus`);
    assert(up.status === 200, `terminus: ${up.status} ${await up.text()}`);
    await nest.get<Broadcaster>(getBroadcasterToken('eu')).close();
    const down = await fetch(`${base}/terminus`);
    const downBody = (await down.json()) as { details: Record<string, { status: string }> };
    assert(down.status === 503 && downBody.details.eu?.status === 'down' && downBody.details.broadcast?.status === 'up', `terminus: ${down.status} ${JSON.stringify(downBody)}`);

    const service = nest.get(BroadcastService);
    const direct: QueueResult = await service.send({ MsgBody: [text('compat nest direct')] });
    assert(emu.deliveries[1]?.MsgSeq === direct.MsgSeq, 'direct send was not delivered');
    await nest.close();
    closed = true;
    assert(service.health().status === 'down', 'app.close() did not close the broadcaster');
  } finally {
    if (!closed) await nest.close();
    await emu.close();
    await euEmu.close();
  }
});
