import { ApiError, createBroadcastClient, text, ValidationError, type BroadcastResult } from '@tim-broadcast/core';
import { startEmulator, type Delivery, type Emulator, type EmulatorOptions } from '@tim-broadcast/emulator';
import { assert, main } from './harness.js';

const app = { sdkAppId: 1400000002, secretKey: 'compat-emulator-secret', identifier: 'administrator' };

main('emulator', async () => {
  const bad = await startEmulator({ sdkAppId: 0, secretKey: app.secretKey, admin: app.identifier }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert(bad instanceof ValidationError, `expected core's ValidationError, got ${String(bad)}`);
  assert(bad.issues.some((i) => i.path.includes('sdkAppId')), JSON.stringify(bad.issues));

  const options: EmulatorOptions = { sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 100 };
  // @ts-expect-error: admin is required
  void (() => startEmulator({ sdkAppId: 1, secretKey: 'x' }));
  const emu: Emulator = await startEmulator(options);
  const client = createBroadcastClient({ ...app, baseUrl: emu.url });
  const intruder = createBroadcastClient({ ...app, secretKey: 'not-the-secret', baseUrl: emu.url, retry: false });
  try {
    const first: BroadcastResult = await client.broadcast({ MsgBody: [text('compat hello')], From_Account: 'ops' }, { idempotencyKey: 'compat-1' });
    const again = await client.broadcast({ MsgBody: [text('compat hello')], From_Account: 'ops' }, { idempotencyKey: 'compat-1' });
    assert(again.MsgSeq === first.MsgSeq, 'a repeated idempotency key must be the same message');
    const deliveries: Delivery[] = emu.deliveries;
    assert(deliveries.length === 1 && deliveries[0]?.MsgSeq === first.MsgSeq, `deliveries: ${JSON.stringify(deliveries)}`);
    assert(emu.stats.duplicates === 1, `stats ${JSON.stringify(emu.stats)}`);
    const error = await intruder.broadcast({ MsgBody: [text('x')] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
    assert(!error.message.includes('not-the-secret'), 'the secret leaked into the error');
  } finally {
    await intruder.close();
    await client.close();
    await emu.close();
  }
});
