import { readFileSync } from 'node:fs';
import { REGIONS } from '@tim-broadcast/core';
import { describe, expect, it } from 'vitest';
import { APP, appEnv, jsonLines, run, start } from './helpers';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('help and version', () => {
  it('--help on every command, with examples', async () => {
    for (const args of [['--help'], ['send', '--help'], ['usersig', '--help'], ['usersig', 'verify', '--help'], ['regions', '--help'], ['emulator', '--help'], ['help', 'send']]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toContain('Examples:');
      expect(result.stdout, args.join(' ')).toMatch(/Usage: tim-broadcast/);
    }
    const root = await run(['--help']);
    for (const name of ['TIM_SDKAPPID', 'TIM_SECRET_KEY', 'TIM_IDENTIFIER', 'TIM_REGION', 'TIM_BASE_URL', 'Exit codes: 0']) expect(root.stdout).toContain(name);
    const emulatorHelp = await run(['emulator', '--help']);
    expect(emulatorHelp.stdout).toContain('Usage: tim-broadcast emulator [flags]');
    expect(emulatorHelp.stdout).toContain('--fault-rate <p>');
  });

  it('--version prints the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await run([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${version}\n`);
    }
  });

  it('no command, an unknown command or flag: exit 2 with usage on stderr', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: tim-broadcast');
    const unknown = await run(['sned', 'hi']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'sned'");
    expect(unknown.stderr).toContain('send');
    const flag = await run(['regions', '--jsn']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown option '--jsn'");
    expect(flag.stderr).toContain('--json');
  });
});

describe('tim-broadcast regions', () => {
  it('lists every region with its domains', async () => {
    const result = await run(['regions']);
    expect(result.code).toBe(0);
    for (const [name, { primary, backup }] of Object.entries(REGIONS)) expect(result.stdout).toMatch(new RegExp(`│ ${name}\\s+│ ${primary}\\s+│ ${backup}\\s+│`));
    const json = await run(['regions', '--json']);
    expect(jsonLines(json.stdout)).toEqual([REGIONS]);
  });
});

describe('tim-broadcast emulator', () => {
  it('runs the emulator until SIGINT; send reaches it', async () => {
    const sdkAppId = 1400000555;
    const emu = start(['emulator', '--port', '0', '--sdkappid', String(sdkAppId), '--secret', APP.secretKey, '--rate', '5']);
    await emu.waitFor((o) => /listening on http:\/\/127\.0\.0\.1:\d+/.test(o.stdout), 'the banner');
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(emu.output.stdout)![1]!;
    expect(emu.output.stdout).toContain('secret    (as given; not printed)');

    const sent = await run(['send', 'via the emulator command', '--json'], { env: appEnv(url, { TIM_SDKAPPID: String(sdkAppId) }) });
    expect(sent.code).toBe(0);
    const [{ MsgSeq }] = jsonLines(sent.stdout) as [{ MsgSeq: number }];
    const { deliveries } = (await (await fetch(`${url}/__emulator/deliveries`)).json()) as { deliveries: { MsgSeq: number; body: { MsgBody: unknown } }[] };
    expect(deliveries).toEqual([expect.objectContaining({ MsgSeq, body: { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'via the emulator command' } }], Random: expect.any(Number) } })]);
    await emu.waitFor((o) => o.stdout.includes(`OK MsgSeq=${MsgSeq}`), 'the call line');

    emu.child.kill('SIGINT');
    const result = await emu.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('SIGINT: closing');
  });

  it('a bad emulator flag exits 2', async () => {
    const result = await run(['emulator', '--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('tim-broadcast emulator:');
    expect(result.stderr).toContain('--bogus');
  });

  it('a bad emulator setting exits 1 naming the flag', async () => {
    const result = await run(['emulator', '--port', '0', '--rate', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--rate');
  });
});
