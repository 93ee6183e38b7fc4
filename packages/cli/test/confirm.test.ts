import { describe, expect, it } from 'vitest';
import { APP, appEnv, emulator, hasScript, ndjson, run, startInTerminal } from './helpers';

/**
 * A "real app" that stays on this machine: the emulator addressed as the IPv4-mapped IPv6 form of 127.0.0.1. The
 * CLI asks for confirmation for any host but 127.0.0.0/8, ::1 and localhost, so this address gets the real-app
 * treatment while every byte still goes to 127.0.0.1. Plain http to such a host needs TIM_ALLOW_INSECURE_HTTP=1.
 */
async function realLookingApp() {
  const emu = await emulator();
  const url = `http://[::ffff:127.0.0.1]:${new URL(emu.url).port}`;
  return { emu, url, env: { ...appEnv(url), TIM_ALLOW_INSECURE_HTTP: '1' } };
}

describe('confirmation before sending to a real app', () => {
  it('refuses http:// to a host other than this machine unless --allow-insecure-http', async () => {
    const { emu, env } = await realLookingApp();
    const { TIM_ALLOW_INSECURE_HTTP: _, ...plain } = env;
    const refused = await run(['send', 'hello', '--yes'], { env: plain });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--base-url / TIM_BASE_URL: http:// is only allowed to a loopback host');
    const allowed = await run(['send', 'hello', '--yes', '--allow-insecure-http'], { env: plain });
    expect(allowed.code).toBe(0);
    expect(emu.stats.requests).toBe(1);
  });

  it('without a terminal and without --yes: names the app, refuses (exit 2), sends nothing', async () => {
    const { emu, env } = await realLookingApp();
    const result = await run(['send', 'hello'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`About to send one broadcast to EVERY audio-video group (AVChatRoom) of SDKAppID ${APP.sdkAppId}, http://[::ffff:7f00:1]:`);
    expect(result.stderr).toContain('standard input is not a terminal, so there is no one to ask; add --yes');
    expect(emu.stats.requests).toBe(0);
  });

  it('a region preset is a real app too (refused here before any network use)', async () => {
    const { TIM_BASE_URL: _, ...env } = appEnv('http://unused');
    const result = await run(['send', 'hello', '--region', 'singapore'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('region singapore (https://adminapisgp.im.qcloud.com)');
  });

  it('--yes sends without asking', async () => {
    const { emu, env } = await realLookingApp();
    const result = await run(['send', 'hello', '--yes'], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('About to send one broadcast');
    expect(emu.deliveries).toHaveLength(1);
  });

  it('--file - cannot be confirmed on standard input: refused without --yes', async () => {
    const { emu, env } = await realLookingApp();
    const input = ndjson([{ text: 'a' }, { text: 'b' }]);
    const refused = await run(['send', '--file', '-'], { env, stdin: input });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('About to send 2 broadcasts in 1 call');
    expect(refused.stderr).toContain('standard input carries the broadcasts');
    expect(emu.stats.requests).toBe(0);
    const sent = await run(['send', '--file', '-', '--yes'], { env, stdin: input });
    expect(sent.code).toBe(0);
    expect(emu.deliveries).toHaveLength(1);
  });

  it.skipIf(!hasScript)('on a terminal: asks, and anything but yes sends nothing (exit 1)', async () => {
    const { emu, env } = await realLookingApp();
    const cli = startInTerminal(['send', 'hello'], { env });
    await cli.waitFor((o) => o.stdout.includes('Type "yes" to send'), 'the question');
    cli.child.stdin!.write('no\r');
    const result = await cli.exited;
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('not confirmed; nothing was sent');
    expect(emu.stats.requests).toBe(0);
  });

  it.skipIf(!hasScript)('on a terminal: Ctrl-C at the question is a no', async () => {
    const { emu, env } = await realLookingApp();
    const cli = startInTerminal(['send', 'hello'], { env });
    await cli.waitFor((o) => o.stdout.includes('Type "yes" to send'), 'the question');
    cli.child.stdin!.write('\x03');
    const result = await cli.exited;
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('not confirmed; nothing was sent');
    expect(emu.stats.requests).toBe(0);
  });

  it.skipIf(!hasScript)('on a terminal: yes sends', async () => {
    const { emu, env } = await realLookingApp();
    const cli = startInTerminal(['send', 'hello'], { env });
    await cli.waitFor((o) => o.stdout.includes('Type "yes" to send'), 'the question');
    cli.child.stdin!.write('yes\r');
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/sent: MsgSeq \d+/);
    expect(emu.deliveries).toHaveLength(1);
  });

  it.skipIf(!hasScript)('never asks for the emulator on loopback, even on a terminal', async () => {
    const emu = await emulator();
    const result = await startInTerminal(['send', 'hello'], { env: appEnv(emu.url) }).exited;
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('About to send');
    expect(emu.deliveries).toHaveLength(1);
  });
});
