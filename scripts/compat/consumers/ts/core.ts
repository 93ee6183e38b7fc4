import {
  ApiError,
  BROADCAST_PATH,
  createBroadcastClient,
  custom,
  messageBytes,
  parseBroadcastRequest,
  signUserSig,
  text,
  ValidationError,
  verifyUserSig,
  type BroadcastClientOptions,
  type BroadcastRequest,
  type BroadcastResult,
  type UserSigCheck,
} from '@tim-broadcast/core';
import { assert, main, startStub } from './harness.js';

const app = { sdkAppId: 1400000001, secretKey: 'compat-core-secret', identifier: 'administrator' };

main('core', async () => {
  const sig: string = signUserSig({ ...app, expireSeconds: 600 });
  const check: UserSigCheck = verifyUserSig(sig, app);
  assert(check.valid, `verifyUserSig rejected a fresh UserSig: ${JSON.stringify(check)}`);
  const expires: Date = check.expiresAt;
  assert(expires.getTime() > Date.now(), 'expiresAt is in the past');
  const wrong = verifyUserSig(sig, { ...app, secretKey: 'another-secret' });
  assert(!wrong.valid && wrong.reason === 'bad-signature', `wrong key: ${JSON.stringify(wrong)}`);

  let issues: ValidationError['issues'] = [];
  try {
    parseBroadcastRequest({ MsgBody: [] });
  } catch (error) {
    assert(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    issues = error.issues;
  }
  assert(issues.some((i) => i.path.includes('MsgBody')), `no issue names MsgBody: ${JSON.stringify(issues)}`);
  const parsed: BroadcastRequest = parseBroadcastRequest({ MsgBody: [text('hi'), custom({ Data: { n: 1 } })] });
  assert(messageBytes(parsed.MsgBody) > 0, 'messageBytes');

  let seq = 100;
  const stub = await startStub((req) => {
    const url = new URL(req.url, 'http://x');
    const verdict = verifyUserSig(url.searchParams.get('usersig') ?? '', app);
    if (url.pathname !== BROADCAST_PATH || !verdict.valid) return { json: { ActionStatus: 'FAIL', ErrorCode: 70003, ErrorInfo: 'bad sig' } };
    if ((JSON.parse(req.body) as { From_Account?: string }).From_Account === 'refused') {
      return { json: { ActionStatus: 'FAIL', ErrorCode: 10004, ErrorInfo: 'invalid parameter' } };
    }
    return { json: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', MsgSeq: ++seq } };
  });
  const options: BroadcastClientOptions = { ...app, baseUrl: stub.url, retry: false };
  // @ts-expect-error: region and baseUrl are exclusive
  void (() => createBroadcastClient({ ...options, region: 'singapore' }));
  const client = createBroadcastClient(options);
  try {
    const result: BroadcastResult = await client.broadcast({ MsgBody: [text('hello from a consumer')] });
    assert(result.MsgSeq === 101 && result.attempts === 1, `result ${JSON.stringify(result)}`);
    const error = await client.broadcast({ MsgBody: [text('x')], From_Account: 'refused' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
    assert(error.code === 10004, `code ${error.code}`);
    assert(!`${error.message}${error.stack}`.includes(app.secretKey), 'the secret key leaked into an error');
    assert(stub.requests.length === 2, `requests ${stub.requests.length}`);
  } finally {
    await client.close();
    await stub.close();
  }
});
