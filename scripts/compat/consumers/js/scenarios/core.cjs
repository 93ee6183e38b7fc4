// Core alone: UserSig sign/verify, request validation, and a client broadcast against a local server that
// checks the signature the way Tencent's does.
const assert = require('node:assert/strict');
const { startStub } = require('../harness.cjs');

const app = { sdkAppId: 1400000001, secretKey: 'compat-core-secret', identifier: 'administrator' };

module.exports = async function coreScenario(core) {
  const { signUserSig, verifyUserSig, parseBroadcastRequest, ValidationError, ApiError, createBroadcastClient, text, custom, messageBytes, BROADCAST_PATH } = core;

  const sig = signUserSig({ ...app, expireSeconds: 600 });
  const check = verifyUserSig(sig, app);
  assert.equal(check.valid, true, `verifyUserSig rejected a fresh UserSig: ${JSON.stringify(check)}`);
  assert.deepEqual(verifyUserSig(sig, { ...app, secretKey: 'another-secret' }), { valid: false, reason: 'bad-signature' });

  assert.throws(() => parseBroadcastRequest({ MsgBody: [] }), (error) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${error && error.name}`);
    assert.ok(error.issues.some((i) => i.path.includes('MsgBody')), `no issue names MsgBody: ${JSON.stringify(error.issues)}`);
    return true;
  });
  const parsed = parseBroadcastRequest({ MsgBody: [text('hi'), custom({ Data: { n: 1 } })] });
  assert.equal(parsed.MsgBody.length, 2);
  assert.ok(messageBytes(parsed.MsgBody) > 0);

  let seq = 100;
  const stub = await startStub((req) => {
    const url = new URL(req.url, 'http://x');
    const verdict = verifyUserSig(url.searchParams.get('usersig'), app);
    if (url.pathname !== BROADCAST_PATH || !verdict.valid) return { json: { ActionStatus: 'FAIL', ErrorCode: 70003, ErrorInfo: 'bad sig' } };
    if (JSON.parse(req.body).From_Account === 'refused') return { json: { ActionStatus: 'FAIL', ErrorCode: 10004, ErrorInfo: 'invalid parameter' } };
    return { json: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', MsgSeq: ++seq } };
  });
  const client = createBroadcastClient({ ...app, baseUrl: stub.url, retry: false });
  try {
    const result = await client.broadcast({ MsgBody: [text('hello from a consumer')] });
    assert.equal(result.MsgSeq, 101);
    assert.equal(result.attempts, 1);
    assert.equal(typeof result.Random, 'number');
    await assert.rejects(client.broadcast({ MsgBody: [text('x')], From_Account: 'refused' }), (error) => {
      assert.ok(error instanceof ApiError, `expected an ApiError, got ${error && error.name}`);
      assert.equal(error.code, 10004);
      assert.ok(!JSON.stringify({ m: error.message, s: error.stack }).includes(app.secretKey), 'the secret key leaked into an error');
      return true;
    });
    assert.equal(stub.requests.length, 2);
  } finally {
    await client.close();
    await stub.close();
  }
};
