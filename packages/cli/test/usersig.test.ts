import { signUserSig, verifyUserSig } from '@tim-broadcast/core';
import { describe, expect, it } from 'vitest';
import { APP, jsonLines, run, userSigsIn } from './helpers';

const env = { TIM_SDKAPPID: String(APP.sdkAppId), TIM_SECRET_KEY: APP.secretKey };

/** A ticket signed in this process, optionally as if at another time (tls-sig-api-v2 reads Date.now). */
function sig(options: { identifier?: string; secretKey?: string; expireSeconds?: number; atMs?: number } = {}): string {
  const realNow = Date.now;
  if (options.atMs !== undefined) Date.now = () => options.atMs!;
  try {
    return signUserSig({ sdkAppId: APP.sdkAppId, secretKey: options.secretKey ?? APP.secretKey, identifier: options.identifier ?? APP.identifier, expireSeconds: options.expireSeconds });
  } finally {
    Date.now = realNow;
  }
}

describe('tim-broadcast usersig', () => {
  it('prints a UserSig, and only it, on stdout', async () => {
    const before = Math.floor(Date.now() / 1000);
    const result = await run(['usersig', '--expire', '120'], { env, sigAsked: true });
    expect(result.code).toBe(0);
    expect(result.stdout.endsWith('\n')).toBe(true);
    const printed = result.stdout.trim();
    expect(printed.split('\n')).toHaveLength(1);
    const check = verifyUserSig(printed, { sdkAppId: APP.sdkAppId, secretKey: APP.secretKey, identifier: APP.identifier });
    expect(check.valid).toBe(true);
    if (!check.valid) return;
    expect(check.expiresAt.getTime() - check.issuedAt.getTime()).toBe(120_000);
    expect(check.issuedAt.getTime() / 1000).toBeGreaterThanOrEqual(before);
    expect(result.stderr).toContain('UserSig for administrator of SDKAppID 1400000000, valid 2 min 0 s');
  });

  it('signs for --identifier, and --json gives the fields', async () => {
    const result = await run(['usersig', '--identifier', 'ops', '--json'], { env, sigAsked: true });
    expect(result.code).toBe(0);
    const [out] = jsonLines(result.stdout);
    expect(out).toMatchObject({ sdkAppId: APP.sdkAppId, identifier: 'ops', expireSeconds: 86_400, expiresAt: expect.any(String) });
    expect(verifyUserSig(out!.userSig as string, { sdkAppId: APP.sdkAppId, secretKey: APP.secretKey, identifier: 'ops' }).valid).toBe(true);
  });

  it('bad --expire and missing configuration exit 2 and print no ticket', async () => {
    for (const expire of ['0', '-5', '1.5', 'soon']) {
      const result = await run(['usersig', '--expire', expire], { env });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("option '--expire <seconds>' argument");
      expect(result.stdout).toBe('');
    }
    const missing = await run(['usersig'], { env: { TIM_SDKAPPID: String(APP.sdkAppId) } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('TIM_SECRET_KEY: required');
  });
});

describe('tim-broadcast usersig verify', () => {
  it('a valid ticket: exit 0 and its expiry; the ticket is not echoed', async () => {
    const ticket = sig({ expireSeconds: 3600 });
    const check = verifyUserSig(ticket, { sdkAppId: APP.sdkAppId, secretKey: APP.secretKey, identifier: APP.identifier });
    if (!check.valid) throw new Error('setup');
    const result = await run(['usersig', 'verify', ticket], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`valid: issued ${check.issuedAt.toISOString()}, expires ${check.expiresAt.toISOString()}`);
    expect(result.stdout).not.toContain(ticket);

    const json = await run(['usersig', 'verify', ticket, '--json'], { env });
    expect(jsonLines(json.stdout)).toEqual([{ valid: true, issuedAt: check.issuedAt.toISOString(), expiresAt: check.expiresAt.toISOString() }]);
  });

  it('reads the ticket from standard input with -', async () => {
    const result = await run(['usersig', 'verify', '-'], { env, stdin: `${sig()}\n` });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^valid: /);
  });

  it('an invalid ticket: exit 1 and the reason', async () => {
    const cases: [string, string[], RegExp][] = [
      [sig({ atMs: Date.now() - 2 * 86_400_000 }), [], /^invalid: expired: expired at \S+ \(the API answers 70001\)/],
      [sig({ identifier: 'bob' }), [], /^invalid: identifier-mismatch: signed for identifier "bob", not "administrator"/],
      [sig(), ['--identifier', 'ops'], /^invalid: identifier-mismatch: signed for identifier "administrator", not "ops"/],
      [sig(), ['--sdkappid', '1400000001'], /^invalid: sdkappid-mismatch: signed for SDKAppID 1400000000, not 1400000001/],
      [sig({ secretKey: 'another-secret-key-for-cli' }), [], /^invalid: bad-signature: /],
      ['not-a-ticket', [], /^invalid: undecodable: /],
    ];
    for (const [ticket, flags, reason] of cases) {
      const result = await run(['usersig', 'verify', ticket, ...flags], { env });
      expect(result.code, reason.source).toBe(1);
      expect(result.stdout).toMatch(reason);
      expect(userSigsIn(result.stdout)).toEqual([]);
    }
    const json = await run(['usersig', 'verify', sig({ identifier: 'bob' }), '--json'], { env });
    expect(jsonLines(json.stdout)).toEqual([{ valid: false, reason: 'identifier-mismatch', explanation: expect.stringContaining('"bob"') }]);
  });

  it('needs the ticket', async () => {
    const result = await run(['usersig', 'verify'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required argument 'sig'");
  });
});
