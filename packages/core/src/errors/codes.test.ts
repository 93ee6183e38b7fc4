import { describe, expect, it } from 'vitest';
import samples from '../../../../spec/fixtures/broadcast-samples.json';
import { ApiError } from './classes';
import { describeErrorCode, errorCatalogue } from './codes';

describe('error catalogue', () => {
  it.each([
    [10002, 'retryable'], [60008, 'retryable'], [70169, 'retryable'], [70500, 'retryable'],
    [10023, 'throttled'], [10006, 'throttled'], [60007, 'throttled'], [60011, 'throttled'], [60018, 'throttled'], [60019, 'throttled'],
    [60004, 'auth'], [60010, 'auth'], [70001, 'auth'], [70009, 'auth'], [70013, 'auth'], [70050, 'auth'], [70052, 'auth'], [70403, 'auth'],
    [10007, 'config'], [10017, 'config'], [70398, 'config'], [60006, 'config'], [60016, 'config'], [60020, 'config'], [60021, 'config'],
    [10003, 'invalid'], [10004, 'invalid'], [10016, 'invalid'], [10019, 'invalid'], [70107, 'invalid'], [60003, 'invalid'], [80002, 'invalid'],
    [12345, 'unknown'],
  ])('%i is %s', (code, category) => {
    expect(describeErrorCode(code).category).toBe(category);
  });

  it('covers every code of the broadcast fixture and says what to do for each', () => {
    for (const code of Object.keys(samples.errorCodes).map(Number)) expect(describeErrorCode(code).category).not.toBe('unknown');
    for (const { hint } of errorCatalogue()) expect(hint.length).toBeGreaterThan(10);
    expect(describeErrorCode(70009).hint).toMatch(/another SDKAppID/);
    expect(describeErrorCode(70050).hint).toMatch(/locked for about a minute/);
    expect(describeErrorCode(10016).hint).toMatch(/webhook/);
    expect(describeErrorCode(10017).hint).toMatch(/muted/);
    expect(describeErrorCode(10019).hint).toMatch(/does not exist/);
    expect(describeErrorCode(70107).hint).toMatch(/not imported/);
    expect(describeErrorCode(70398).hint).toMatch(/account limit/);
  });

  it('redacts usersig values an upstream echoes in ErrorInfo, and bounds its length', () => {
    const echoed = 'bad request: POST /v4/group_open_http_svc/send_broadcast_msg?sdkappid=1&usersig=eJwSECRET*-_&random=5 "usersig": "eJwOTHER"';
    const err = new ApiError(10004, echoed);
    for (const text of [err.info, err.message]) {
      expect(text).not.toMatch(/eJwSECRET|eJwOTHER/);
      expect(text).toContain('usersig=[redacted]&random=5');
    }
    expect(new ApiError(10004, 'x'.repeat(5_000)).info).toHaveLength(1_001);
  });

  it('builds ApiError from a code', () => {
    const err = new ApiError(10023, 'freq limit');
    expect(err).toMatchObject({ code: 10023, info: 'freq limit', category: 'throttled', retryable: true, attempts: 1 });
    expect(err.message).toBe('Tencent Cloud Chat error 10023 (freq limit): broadcast frequency limit reached (1 call/s on most editions); wait and retry');
  });
});
