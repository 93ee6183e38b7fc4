import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeUserSig, signUserSig } from '@tim-broadcast/core';
import { startEmulator, type Emulator, type EmulatorOptions } from '@tim-broadcast/emulator';
import { afterAll, afterEach, expect } from 'vitest';
import { recordOutput } from '../../../testing/secret-scan.setup';

/** The built bin: tests run what users run (`pnpm build` first). */
export const CLI = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));

export const APP = { sdkAppId: 1400000000, secretKey: 'cli-test-secret-7f3a9c1e5b', identifier: 'administrator' } as const;

// sign once in this process, so the suite-wide secret scan knows the secret (it records what tls-sig-api-v2 is given)
signUserSig({ sdkAppId: APP.sdkAppId, secretKey: APP.secretKey, identifier: APP.identifier });

const emulators = new Set<Emulator>();
const children = new Set<ChildProcess>();
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  await Promise.all([...emulators].map((emu) => emu.close()));
  emulators.clear();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An emulator for the current test, closed after it; real clock. */
export async function emulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  const emu = await startEmulator({ sdkAppId: APP.sdkAppId, secretKey: APP.secretKey, admin: APP.identifier, ratePerSecond: 100, ...options });
  emulators.add(emu);
  return emu;
}

/** The TIM_* environment of an app behind `url`. */
export function appEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return { TIM_SDKAPPID: String(APP.sdkAppId), TIM_SECRET_KEY: APP.secretKey, TIM_BASE_URL: url, ...extra };
}

/** A temporary file holding `text`. */
export function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tim-broadcast-cli-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

export function ndjson(values: unknown[]): string {
  return `${values.map((v) => JSON.stringify(v)).join('\n')}\n`;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  stdin?: string;
  /** The output may hold a UserSig because one was asked for (`usersig` signing): not recorded for the scan. */
  sigAsked?: boolean;
}

/** Any UserSig in `text`: runs of the ticket alphabet that decode as one. */
export function userSigsIn(text: string): string[] {
  return [...text.matchAll(/[A-Za-z0-9*\-_]{40,}/g)].map((m) => m[0]).filter((token) => decodeUserSig(token) !== undefined);
}

/** Checks a finished run's output: never the secret, never a UserSig unless one was asked for. */
export function checkOutput(run: Pick<Run, 'stdout' | 'stderr'>, sigAsked = false): void {
  expect(run.stdout + run.stderr).not.toContain(APP.secretKey);
  if (!sigAsked) {
    recordOutput(run.stdout, run.stderr);
    expect(userSigsIn(run.stdout + run.stderr)).toEqual([]);
  } else {
    recordOutput(run.stderr);
    expect(userSigsIn(run.stderr)).toEqual([]);
  }
}

/** A started bin: its output so far, and helpers to wait for output or the exit. */
export interface Started {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  waitFor(predicate: (output: { stdout: string; stderr: string }) => boolean, what: string, timeoutMs?: number): Promise<void>;
  exited: Promise<Run>;
}

/** Spawns `node dist/cli.mjs ...args` with only PATH and `env` (no TIM_* leaks in from the test's environment). */
export function start(args: string[], options: RunOptions = {}): Started {
  expect(existsSync(CLI), `build first: ${CLI} is missing`).toBe(true);
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...options.env }, stdio: 'pipe' });
  return track(child, options);
}

/** Runs `command` under a pseudo-terminal (`script` from util-linux): stdin, stdout and stderr are a TTY. */
export function startInTerminal(args: string[], options: RunOptions = {}): Started {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...options.env }, stdio: 'pipe' });
  return track(child, { ...options, stdin: undefined });
}

export const hasScript = spawnSync('script', ['--version']).status === 0;

function track(child: ChildProcess, options: RunOptions): Started {
  children.add(child);
  const output = { stdout: '', stderr: '' };
  const waiters = new Set<() => void>();
  const changed = () => waiters.forEach((w) => w());
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => ((output.stdout += chunk), changed()));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => ((output.stderr += chunk), changed()));
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  const exited = new Promise<Run>((resolve, reject) =>
    child.on('close', (code, signal) => {
      const run = { code, signal, ...output };
      try {
        checkOutput(run, options.sigAsked);
        resolve(run);
      } catch (err) {
        reject(err as Error);
      }
    }),
  );
  return {
    child,
    output,
    exited,
    waitFor(predicate, what, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(output)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${what}; stdout: ${output.stdout.slice(-500)}; stderr: ${output.stderr.slice(-500)}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`exited (${child.exitCode}) before ${what}; stdout: ${output.stdout.slice(-500)}; stderr: ${output.stderr.slice(-500)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('close', onExit);
        };
        waiters.add(check);
        child.on('close', onExit);
        check();
      });
    },
  };
}

/** Runs the bin to completion. */
export function run(args: string[], options: RunOptions = {}): Promise<Run> {
  return start(args, options).exited;
}

/** Polls `predicate` until it holds (bounded). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** JSON lines of a run's stdout. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
