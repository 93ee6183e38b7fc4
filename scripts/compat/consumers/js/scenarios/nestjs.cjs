// A Nest app (decorators applied as plain calls: this is plain JS) imports BroadcastModule.forRoot and a named
// forRootAsync registration, injects both services into a controller, broadcasts through HTTP to two emulators,
// maps an SDK error to HTTP with BroadcastExceptionFilter, reports health through the indicator of the /health
// subpath, and drains on app.close().
const assert = require('node:assert/strict');

const app = { sdkAppId: 1400000004, secretKey: 'compat-nestjs-secret', identifier: 'administrator' };
const eu = { sdkAppId: 1400000014, secretKey: 'compat-nestjs-eu-secret', identifier: 'administrator' };

module.exports = async function nestScenario(deps) {
  const { NestFactory, APP_FILTER, Module, Controller, Get, Inject, TerminusModule, HealthCheckService, nestjs, BroadcastHealthIndicator, startEmulator } = deps;
  const { BroadcastModule, BroadcastService, BroadcastExceptionFilter, InjectBroadcast, getBroadcasterToken, text } = nestjs;
  const emu = await startEmulator({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 100 });
  const euEmu = await startEmulator({ sdkAppId: eu.sdkAppId, secretKey: eu.secretKey, admin: eu.identifier, ratePerSecond: 100 });

  class AnnounceController {
    constructor(broadcast, euBroadcast, health, terminus) {
      this.broadcast = broadcast;
      this.euBroadcast = euBroadcast;
      this.health = health;
      this.terminus = terminus;
    }
    terminusCheck() {
      return this.terminus.check([() => this.health.isHealthy('broadcast'), () => this.health.isHealthy('eu', { name: 'eu' })]);
    }
    async announce() {
      const { MsgSeq, batchSize } = await this.broadcast.send({ MsgBody: [text('compat nest')] });
      return { MsgSeq, batchSize };
    }
    async toEu() {
      const { MsgSeq } = await this.euBroadcast.send({ MsgBody: [text('compat nest eu')] });
      return { MsgSeq };
    }
    invalid() {
      return this.broadcast.send({ MsgBody: [] });
    }
    check() {
      return this.health.isHealthy();
    }
  }
  Inject(BroadcastService)(AnnounceController, undefined, 0);
  InjectBroadcast('eu')(AnnounceController, undefined, 1);
  Inject(BroadcastHealthIndicator)(AnnounceController, undefined, 2);
  Inject(HealthCheckService)(AnnounceController, undefined, 3);
  for (const [method, path] of [['announce', 'announce'], ['toEu', 'eu'], ['invalid', 'invalid'], ['check', 'health'], ['terminusCheck', 'terminus']]) {
    Get(path)(AnnounceController.prototype, method, Object.getOwnPropertyDescriptor(AnnounceController.prototype, method));
  }
  Controller()(AnnounceController);

  class AppModule {}
  Module({
    imports: [
      BroadcastModule.forRoot({ ...app, baseUrl: emu.url, rateLimit: { ratePerSecond: 50 } }),
      BroadcastModule.forRootAsync({ name: 'eu', useFactory: () => ({ ...eu, baseUrl: euEmu.url }) }),
      TerminusModule,
    ],
    controllers: [AnnounceController],
    providers: [BroadcastHealthIndicator, { provide: APP_FILTER, useClass: BroadcastExceptionFilter }],
  })(AppModule);

  const nest = await NestFactory.create(AppModule, { logger: false });
  let closed = false;
  try {
    await nest.listen(0, '127.0.0.1');
    const base = (await nest.getUrl()).replace('[::1]', '127.0.0.1');
    const res = await fetch(`${base}/announce`);
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(typeof body.MsgSeq, 'number');
    assert.equal(emu.deliveries.length, 1);
    assert.equal(emu.deliveries[0].MsgSeq, body.MsgSeq);
    const toEu = await (await fetch(`${base}/eu`)).json();
    assert.equal(euEmu.deliveries.length, 1);
    assert.equal(euEmu.deliveries[0].MsgSeq, toEu.MsgSeq);
    const invalid = await fetch(`${base}/invalid`);
    const problem = await invalid.json();
    assert.equal(invalid.status, 400, JSON.stringify(problem));
    assert.equal(problem.error, 'invalid_request');

    const health = await (await fetch(`${base}/health`)).json();
    assert.equal(health.broadcast && health.broadcast.status, 'up', JSON.stringify(health));
    const up = await fetch(`${base}/terminus`);
    assert.equal(up.status, 200, JSON.stringify(await up.json()));
    await nest.get(getBroadcasterToken('eu')).close();
    const down = await fetch(`${base}/terminus`);
    const downBody = await down.json();
    assert.equal(down.status, 503, JSON.stringify(downBody));
    assert.equal(downBody.details.eu.status, 'down', JSON.stringify(downBody));
    assert.equal(downBody.details.broadcast.status, 'up', JSON.stringify(downBody));

    const service = nest.get(BroadcastService);
    const direct = await service.send({ MsgBody: [text('compat nest direct')] });
    assert.equal(emu.deliveries.length, 2);
    assert.equal(emu.deliveries[1].MsgSeq, direct.MsgSeq);
    await nest.close();
    closed = true;
    assert.equal(service.health().status, 'down', 'app.close() did not close the broadcaster');
  } finally {
    if (!closed) await nest.close();
    await emu.close();
    await euEmu.close();
  }
};
