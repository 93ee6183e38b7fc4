import { PassThrough } from 'node:stream';
import { runCli } from '@tim-broadcast/cli';
import { REGIONS } from '@tim-broadcast/core';
import { describe, expect, it } from 'vitest';
import { appEnv, checkOutput, emulator } from './helpers';

/** runCli in this process, its streams captured. */
async function inProcess(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = { stdout: '', stderr: '' };
  stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const code = await runCli(argv, { stdin: new PassThrough(), stdout, stderr, env });
  checkOutput(out);
  return { code, ...out };
}

describe('runCli (the programmatic entry)', () => {
  it('resolves with the exit code and writes to the given streams', async () => {
    const regions = await inProcess(['regions', '--json']);
    expect(regions.code).toBe(0);
    expect(JSON.parse(regions.stdout)).toEqual(REGIONS);

    const emu = await emulator();
    const sent = await inProcess(['send', 'from code', '--json'], appEnv(emu.url));
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ MsgSeq: emu.deliveries[0]!.MsgSeq });

    const usage = await inProcess(['send', '--nope']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("unknown option '--nope'");
  });
});
