/** Throwaway redis-server processes for tests that stop, kill or cluster Redis (the shared REDIS_URL one stays up). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

/** The shared redis-server the CI script starts (REDIS_URL), or the one on the default port. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Starts `redis-server` with `args`; resolves once its output matches `ready` (by default: it accepts connections).
 * Rejects, the process killed, if it exits first or is not ready within `timeoutMs`.
 */
export function spawnRedis(args: string[], ready: RegExp = /Ready to accept connections/, timeoutMs = 20_000): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise<ChildProcess>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server was not ready within ${timeoutMs} ms: ${out.slice(-500)}`)), timeoutMs);
    const read = (chunk: Buffer) => {
      out += chunk;
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`)));
  }).catch(async (err: unknown) => {
    await killProcess(child);
    throw err;
  });
}

/** SIGKILL: no shutdown save, like a crash. Resolves once it has exited (at once when it already has). */
export async function killProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * A redis-server on a free port that a test can kill and start again on the same port. With `persistent`, it writes
 * an append-only file (fsync on every write) into its own temp folder, so a restart keeps everything acknowledged.
 */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL: no shutdown save, like a crash (or a Redis that goes away under a running app). */
  kill(): Promise<void>;
  /** Kills it and removes its folder. */
  dispose(): Promise<void>;
}

/** Started before it is returned. */
export async function testRedis(options: { persistent?: boolean } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = options.persistent ? mkdtempSync(join(tmpdir(), 'tim-broadcast-redis-')) : undefined;
  const storage = dir ? ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  let child: ChildProcess | undefined;
  const redis: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = await spawnRedis(['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...storage, '--daemonize', 'no']);
    },
    async kill() {
      const proc = child;
      child = undefined;
      await killProcess(proc);
    },
    async dispose() {
      await redis.kill();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}

/** How many connections to the server of `observer` (an ioredis client) carry the client name `name` (CLIENT LIST). */
export async function connectionsNamed(observer: { client(subcommand: 'LIST'): Promise<unknown> }, name: string): Promise<number> {
  const list = (await observer.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
}
