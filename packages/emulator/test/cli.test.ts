import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BROADCAST_PATH, signUserSig } from '@tim-broadcast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { banner, DEFAULT_CLI_PORT, parseCliArgs } from '../src/cli-args';
import { sample } from './helpers';

const CLI = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));

describe('parseCliArgs', () => {
  it('uses defaults and generates a secret when none is given', () => {
    const a = parseCliArgs([], {});
    const b = parseCliArgs([], {});
    expect(a.options).toMatchObject({ port: DEFAULT_CLI_PORT, host: '127.0.0.1', sdkAppId: 1400000000, admin: 'administrator', ratePerSecond: 1, broadcastEnabled: true });
    expect(a.generatedSecret).toBe(true);
    expect(a.options.secretKey).toMatch(/^[0-9a-f]{64}$/);
    expect(b.options.secretKey).not.toBe(a.options.secretKey);
    expect(a.options.faults).toBeUndefined();
  });

  it('reads environment variables, and flags win over them', () => {
    const env = {
      TIM_EMULATOR_PORT: '9001',
      TIM_EMULATOR_SDKAPPID: '1400000123',
      TIM_EMULATOR_SECRET: 'env-secret',
      TIM_EMULATOR_ADMIN: 'ops',
      TIM_EMULATOR_RATE: '5',
      TIM_EMULATOR_BROADCAST_DISABLED: '1',
      TIM_EMULATOR_FAULT_RATE: '0.2',
      TIM_EMULATOR_FAULT_KINDS: 'http502, reset',
      TIM_EMULATOR_SEED: '7',
      TIM_EMULATOR_SLOW_MS: '100',
      TIM_EMULATOR_QUIET: 'true',
    };
    const fromEnv = parseCliArgs([], env);
    expect(fromEnv).toMatchObject({
      generatedSecret: false,
      quiet: true,
      options: {
        port: 9001,
        sdkAppId: 1400000123,
        secretKey: 'env-secret',
        admin: 'ops',
        ratePerSecond: 5,
        broadcastEnabled: false,
        faults: { rate: 0.2, kinds: ['http502', 'reset'], seed: 7, slowMs: 100 },
      },
    });
    const flags = parseCliArgs(['--port', '0', '--secret', 'flag-secret', '--rate', 'Infinity', '--fault-rate', '0', '--admin', 'root'], env);
    expect(flags.options).toMatchObject({ port: 0, secretKey: 'flag-secret', ratePerSecond: Infinity, admin: 'root', faults: { rate: 0 } });
  });

  it('takes a negative number as a flag value, so the bad value is named later (not "unknown option -1")', () => {
    expect(parseCliArgs(['--rate', '-1', '--slow-ms', '-5'], {}).options).toMatchObject({ ratePerSecond: -1, faults: { slowMs: -5 } });
  });

  it('builds a banner that warns off loopback and shows the fault seed', () => {
    const local = banner(parseCliArgs(['--fault-rate', '0.1'], {}), 'http://127.0.0.1:1', 77);
    expect(local).toContain('loopback only');
    expect(local).toContain('rate 0.1 of all kinds, seed 77');
    const open = banner(parseCliArgs(['--host', '0.0.0.0', '--secret', 'abc'], {}), 'http://0.0.0.0:1', 1);
    expect(open).toContain('WARNING: listening on 0.0.0.0');
    expect(open).not.toContain('abc');
    expect(open).toContain('faults    none');
  });

  it('reads the rate model and the allowed hosts from flags and the environment', () => {
    expect(parseCliArgs(['--rate', '5', '--rate-model', 'spacing'], {}).options).toMatchObject({ ratePerSecond: 5, rateModel: 'spacing' });
    expect(parseCliArgs([], { TIM_EMULATOR_RATE_MODEL: 'spacing' }).options.rateModel).toBe('spacing');
    expect(parseCliArgs([], {}).options.rateModel).toBeUndefined();
    expect(parseCliArgs(['--allowed-hosts', 'emulator, .dev.test'], {}).options.allowedHosts).toEqual(['emulator', '.dev.test']);
    expect(parseCliArgs([], { TIM_EMULATOR_ALLOWED_HOSTS: '*' }).options.allowedHosts).toBe(true);
  });

  it('prints the dashboard URL and the spacing rule in the banner', () => {
    const text = banner(parseCliArgs(['--rate', '5', '--rate-model', 'spacing'], {}), 'http://127.0.0.1:8080', 1);
    expect(text).toContain('dashboard http://127.0.0.1:8080/');
    expect(text).toContain('5/s, each accepted call ≥ 200 ms after the last (spacing)');
  });

  it('throws on an unknown flag', () => {
    expect(() => parseCliArgs(['--bogus'], {})).toThrow(/bogus/);
  });
});

describe('tim-broadcast-emulator (built CLI)', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  function run(args: string[], env: Record<string, string> = {}) {
    expect(existsSync(CLI), `build first: ${CLI} is missing`).toBe(true);
    const proc = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    child = proc;
    const out = { stdout: '', stderr: '' };
    proc.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
    /** Resolves once the banner is printed; fails early, with stderr, if the process exits first. */
    const ready = async () => {
      await expect
        .poll(
          () => {
            if (proc.exitCode !== null) throw new Error(`CLI exited with ${proc.exitCode}: ${out.stderr}`);
            return out.stdout;
          },
          { timeout: 15_000, interval: 50 },
        )
        .toContain('Ctrl-C to stop');
    };
    return { proc, out, exited, ready };
  }

  it('prints its URL and credentials, serves broadcasts, logs calls without the UserSig, and stops on SIGTERM', async () => {
    const { proc, out, exited, ready } = run(['--port', '0', '--sdkappid', '1400000777']);
    await ready();
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out.stdout)?.[1];
    const secret = /secret\s+([0-9a-f]{64})\s+\(generated for this session\)/.exec(out.stdout)?.[1];
    expect(url).toBeDefined();
    expect(secret).toBeDefined();
    expect(out.stdout).toContain('loopback only');
    expect(out.stdout).toContain(`dashboard ${url}/`);
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>tim-broadcast emulator</title>');
    // the assets ship inside dist: no CDN, nothing to build
    expect(await (await fetch(`${url}/__emulator/dashboard.js`)).text()).toContain("new EventSource(CONTROL + 'events')");
    expect(await (await fetch(`${url}/__emulator/dashboard.css`)).text()).toContain('prefers-color-scheme: dark');
    expect(out.stdout).toMatch(/sdkappid\s+1400000777/);
    expect(out.stdout).toMatch(/admin\s+administrator/);

    const usersig = signUserSig({ sdkAppId: 1400000777, secretKey: secret!, identifier: 'administrator' });
    const q = new URLSearchParams({ sdkappid: '1400000777', identifier: 'administrator', usersig, random: '1', contenttype: 'json' });
    const reply = await fetch(`${url}${BROADCAST_PATH}?${q}`, { method: 'POST', body: JSON.stringify(sample()) });
    expect(await reply.json()).toEqual({ ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, MsgSeq: 1 });
    const stats = await (await fetch(`${url}/__emulator/stats`)).json();
    expect(stats).toMatchObject({ requests: 1, accepted: 1 });
    await expect.poll(() => out.stdout, { interval: 20 }).toContain('send_broadcast_msg -> OK MsgSeq=1');
    expect(out.stdout + out.stderr).not.toContain(usersig.slice(0, 16));

    proc.kill('SIGTERM');
    expect(await exited, `stdout:\n${out.stdout}\nstderr:\n${out.stderr}`).toBe(0);
    expect(out.stdout).toContain('SIGTERM: closing');
  });

  it('does not print a secret it was given, and stops on SIGINT', async () => {
    const { proc, out, exited, ready } = run(['--port', '0', '--quiet'], { TIM_EMULATOR_SECRET: 'given-secret-value' });
    await ready();
    expect(out.stdout).not.toContain('given-secret-value');
    expect(out.stdout).toContain('(as given; not printed)');
    proc.kill('SIGINT');
    expect(await exited, `stdout:\n${out.stdout}\nstderr:\n${out.stderr}`).toBe(0);
  });

  it('exits non-zero naming the flag when a setting is invalid', async () => {
    const bad = run(['--port', 'abc', '--fault-rate', '2', '--rate-model', 'strict']);
    expect(await bad.exited).toBe(1);
    expect(bad.out.stderr).toContain('--port');
    expect(bad.out.stderr).toContain('--fault-rate');
    expect(bad.out.stderr).toContain('--rate-model');
    const unknown = run(['--bogus']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.out.stderr).toContain('Usage: tim-broadcast-emulator');
  });
});
