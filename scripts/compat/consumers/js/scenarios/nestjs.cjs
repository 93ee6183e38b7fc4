// A Nest app (decorators applied as plain calls: this is plain JS) imports BroadcastModule.forRoot, injects
// BroadcastService into a controller, broadcasts through HTTP to the emulator, reports health through the
// terminus indicator of the /health subpath, and drains on app.close().
const assert = require('node:assert/strict');

const app = { sdkAppId: 1400000004, secretKey: 'compat-nestjs-secret', identifier: 'administrator' };

module.exports = async function nestScenario(deps) {
  const { NestFactory, Module, Controller, Get, Inject, TerminusModule, BroadcastModule, BroadcastService, BroadcastHealthIndicator, startEmulator, text } = deps;
  const emu = await startEmulator({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 100 });

  class AnnounceController {
    constructor(broadcast, health) {
      this.broadcast = broadcast;
      this.health = health;
    }
    async announce() {
      const { MsgSeq, batchSize } = await this.broadcast.send({ MsgBody: [text('compat nest')] });
      return { MsgSeq, batchSize };
    }
    check() {
      return this.health.isHealthy();
    }
  }
  Inject(BroadcastService)(AnnounceController, undefined, 0);
  Inject(BroadcastHealthIndicator)(AnnounceController, undefined, 1);
  for (const [method, path] of [['announce', 'announce'], ['check', 'health']]) {
    Get(path)(AnnounceController.prototype, method, Object.getOwnPropertyDescriptor(AnnounceController.prototype, method));
  }
  Controller()(AnnounceController);

  class AppModule {}
  Module({
    imports: [BroadcastModule.forRoot({ ...app, baseUrl: emu.url, rateLimit: { ratePerSecond: 50 } }), TerminusModule],
    controllers: [AnnounceController],
    providers: [BroadcastHealthIndicator],
  })(AppModule);

  const nest = await NestFactory.create(AppModule, { logger: false });
  let closed = false;
  try {
    await nest.listen(0, '127.0.0.1');
    const base = await nest.getUrl();
    const res = await fetch(`${base.replace('[::1]', '127.0.0.1')}/announce`);
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(typeof body.MsgSeq, 'number');
    assert.equal(emu.deliveries.length, 1);
    assert.equal(emu.deliveries[0].MsgSeq, body.MsgSeq);

    const health = await (await fetch(`${base.replace('[::1]', '127.0.0.1')}/health`)).json();
    assert.equal(health.broadcast && health.broadcast.status, 'up', JSON.stringify(health));

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
  }
};
