// A client broadcasts to the emulator: MsgSeq comes back, the emulator recorded the delivery, a repeated
// idempotency key is one message, a wrong secret is an ApiError, and bad emulator options are a ValidationError.
const assert = require('node:assert/strict');

const app = { sdkAppId: 1400000002, secretKey: 'compat-emulator-secret', identifier: 'administrator' };

module.exports = async function emulatorScenario({ startEmulator, createBroadcastClient, text, ApiError, ValidationError }) {
  await assert.rejects(startEmulator({ sdkAppId: 0, secretKey: app.secretKey, admin: app.identifier }), (error) => {
    assert.ok(error instanceof ValidationError, `expected core's ValidationError, got ${error && error.name}`);
    assert.ok(error.issues.some((i) => i.path.includes('sdkAppId')), JSON.stringify(error.issues));
    return true;
  });

  const emu = await startEmulator({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 100 });
  const client = createBroadcastClient({ ...app, baseUrl: emu.url });
  const intruder = createBroadcastClient({ ...app, secretKey: 'not-the-secret', baseUrl: emu.url, retry: false });
  try {
    const first = await client.broadcast({ MsgBody: [text('compat hello')], From_Account: 'ops' }, { idempotencyKey: 'compat-1' });
    assert.equal(typeof first.MsgSeq, 'number');
    const again = await client.broadcast({ MsgBody: [text('compat hello')], From_Account: 'ops' }, { idempotencyKey: 'compat-1' });
    assert.equal(again.MsgSeq, first.MsgSeq, 'a repeated idempotency key must be the same message');

    const deliveries = emu.deliveries;
    assert.equal(deliveries.length, 1, `deliveries: ${JSON.stringify(deliveries)}`);
    assert.equal(deliveries[0].MsgSeq, first.MsgSeq);
    assert.equal(deliveries[0].body.MsgBody[0].MsgContent.Text, 'compat hello');
    assert.equal(emu.stats.duplicates, 1);

    await assert.rejects(intruder.broadcast({ MsgBody: [text('x')] }), (error) => {
      assert.ok(error instanceof ApiError, `expected an ApiError, got ${error && error.name}`);
      assert.ok(!String(error.message).includes('not-the-secret'));
      return true;
    });
  } finally {
    await intruder.close();
    await client.close();
    await emu.close();
  }
};
