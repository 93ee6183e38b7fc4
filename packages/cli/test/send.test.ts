import { describeErrorCode, randomFromKey } from '@tim-broadcast/core';
import { describe, expect, it } from 'vitest';
import { APP, appEnv, emulator, jsonLines, run, tempFile } from './helpers';

describe('tim-broadcast send "text"', () => {
  it('sends one broadcast and prints MsgSeq and Random', async () => {
    const emu = await emulator();
    const result = await run(['send', 'Maintenance in 10 minutes'], { env: appEnv(emu.url) });
    expect(result.code).toBe(0);
    const [delivery] = emu.deliveries;
    expect(emu.deliveries).toHaveLength(1);
    expect(delivery!.body.MsgBody).toEqual([{ MsgType: 'TIMTextElem', MsgContent: { Text: 'Maintenance in 10 minutes' } }]);
    expect(result.stdout).toBe(`sent: MsgSeq ${delivery!.MsgSeq}, Random ${delivery!.Random} (1 attempt)\n`);
    expect(result.stderr).toBe(''); // the emulator is loopback: no confirmation, no notice
  });

  it('--custom, --from, --cloud-custom-data and --json', async () => {
    const emu = await emulator();
    const result = await run(['send', 'Match starts', '--custom', '{"kind":"countdown","seconds":300}', '--from', 'ops', '--cloud-custom-data', 'v1', '--json'], {
      env: appEnv(emu.url),
    });
    expect(result.code).toBe(0);
    const [delivery] = emu.deliveries;
    expect(delivery!.body).toMatchObject({
      From_Account: 'ops',
      CloudCustomData: 'v1',
      MsgBody: [
        { MsgType: 'TIMTextElem', MsgContent: { Text: 'Match starts' } },
        { MsgType: 'TIMCustomElem', MsgContent: { Data: '{"kind":"countdown","seconds":300}' } },
      ],
    });
    expect(jsonLines(result.stdout)).toEqual([{ MsgSeq: delivery!.MsgSeq, Random: delivery!.Random, attempts: 1 }]);
  });

  it('--idempotency-key: the same key twice is one message (Random derived from the key)', async () => {
    const emu = await emulator();
    const args = ['send', 'Doors open', '--idempotency-key', 'doors-1', '--json'];
    const first = await run(args, { env: appEnv(emu.url) });
    const second = await run(args, { env: appEnv(emu.url) });
    expect([first.code, second.code]).toEqual([0, 0]);
    const [a] = jsonLines(first.stdout);
    const [b] = jsonLines(second.stdout);
    expect(a!.Random).toBe(randomFromKey('doors-1'));
    expect(b!.MsgSeq).toBe(a!.MsgSeq);
    expect(emu.deliveries).toHaveLength(1);
    expect(emu.stats.duplicates).toBe(1);
  });

  it('an API error exits 1 with the code and its hint', async () => {
    const emu = await emulator({ broadcastEnabled: false });
    const result = await run(['send', 'hello'], { env: appEnv(emu.url) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('10007');
    expect(result.stderr).toContain(describeErrorCode(10007).hint);
    expect(emu.deliveries).toHaveLength(0);
  });

  it('a network failure exits 1', async () => {
    const emu = await emulator();
    const url = emu.url;
    await emu.close();
    const result = await run(['send', 'hello'], { env: appEnv(url) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ECONNREFUSED/);
  }, 60_000);

  it('bad input exits 2 naming the flag, and sends nothing', async () => {
    const emu = await emulator();
    const env = appEnv(emu.url);
    const cases: [string[], RegExp][] = [
      [['send'], /nothing to send/],
      [['send', 'x', '--custom', '{nope'], /--custom: expected JSON/],
      [['send', 'x', '--from', ''], /--from: /],
      [['send', 'x'.repeat(12_001)], /the text: .*12,?000 bytes|MsgBody is \d+ bytes/],
      [['send', 'x', '--idempotency-key', ''], /--idempotency-key/],
      [['send', 'x', '--rate', '5'], /--rate paces a --file run/],
      [['send', 'x', '--dry-run'], /--dry-run plans a --file run/],
      [['send', 'x', '--bogus'], /unknown option '--bogus'/],
      [['send', 'a', 'b'], /too many arguments/],
    ];
    for (const [args, message] of cases) {
      const result = await run(args, { env });
      expect(result.code, args.join(' ').slice(0, 60)).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect(emu.stats.requests).toBe(0);
  });
});

describe('configuration', () => {
  it('flags override the TIM_* variables', async () => {
    const emu = await emulator({ sdkAppId: 1400000777, admin: 'ops' });
    const env = appEnv('http://127.0.0.1:1', { TIM_SDKAPPID: '1400000001', TIM_IDENTIFIER: 'nobody' });
    const result = await run(['send', 'hi', '--sdkappid', '1400000777', '--identifier', 'ops', '--base-url', emu.url], { env });
    expect(result.code).toBe(0);
    expect(emu.deliveries).toHaveLength(1);
  });

  it('--base-url overrides TIM_REGION', async () => {
    const emu = await emulator();
    const { TIM_BASE_URL: _, ...env } = appEnv(emu.url);
    const result = await run(['send', 'hi', '--base-url', emu.url], { env: { ...env, TIM_REGION: 'singapore' } });
    expect(result.code).toBe(0);
    expect(emu.deliveries).toHaveLength(1);
  });

  it('the identifier defaults to administrator; another admin is the API error 60010', async () => {
    const emu = await emulator();
    expect((await run(['send', 'hi'], { env: appEnv(emu.url) })).code).toBe(0);
    const other = await run(['send', 'hi', '--identifier', 'ops'], { env: appEnv(emu.url) });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('60010');
  });

  it('reads the secret from --secret-key-file (a trailing newline is dropped)', async () => {
    const emu = await emulator();
    const { TIM_SECRET_KEY: _, ...env } = appEnv(emu.url);
    const file = tempFile('secret', `${APP.secretKey}\n`);
    const result = await run(['send', 'hi', '--secret-key-file', file], { env });
    expect(result.code).toBe(0);
    expect(emu.deliveries).toHaveLength(1);
  });

  it('refuses the secret as a flag without echoing it', async () => {
    for (const flag of ['--secret-key=' + APP.secretKey, '--secret', '--secretKey']) {
      const result = await run(['send', 'hi', flag, APP.secretKey]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/is not accepted: a secret on the command line ends up in shell history and in ps/);
    }
  });

  it('names each missing or bad setting with its flag and variable (exit 2)', async () => {
    const missing = await run(['send', 'hi']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--sdkappid / TIM_SDKAPPID: required');
    expect(missing.stderr).toContain('--secret-key-file / TIM_SECRET_KEY: required');
    expect(missing.stderr).toContain('--region / TIM_REGION: required');

    const bad = await run(['send', 'hi', '--sdkappid', '12abc', '--region', 'singapur', '--secret-key-file', '/nonexistent/secret']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--sdkappid / TIM_SDKAPPID: expected a positive integer');
    expect(bad.stderr).toContain(`unknown region "singapur" (did you mean 'singapore'?)`);
    expect(bad.stderr).toContain('--secret-key-file / TIM_SECRET_KEY: cannot read "/nonexistent/secret" (ENOENT)');

    const both = await run(['send', 'hi'], { env: { ...appEnv('http://127.0.0.1:1'), TIM_REGION: 'tokyo' } });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('TIM_REGION and TIM_BASE_URL are set');

    const badUrl = await run(['send', 'hi', '--base-url', 'ftp://example'], { env: appEnv('http://127.0.0.1:1') });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('--base-url / TIM_BASE_URL: expected an http(s) base URL');
  });
});
