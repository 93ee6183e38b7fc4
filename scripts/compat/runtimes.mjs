// Node versions (the npm package `node` ships each as a registry package) and the redis-server the Redis cells use.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { expectOk, run } from './proc.mjs';

export const CACHE = process.env.TIM_COMPAT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tim-broadcast-compat');

/**
 * The path of a `node` binary of this major: the running one when it matches, else one installed once with
 * `npm install node@<major>` into the cache (about 5 s and 190 MB per major) and reused by later runs.
 */
export async function nodeBinary(major) {
  if (Number(process.versions.node.split('.')[0]) === major) return { bin: process.execPath, version: process.version };
  const prefix = join(CACHE, `node-${major}`);
  const bin = join(prefix, 'node_modules/.bin/node');
  const probe = async () => (existsSync(bin) ? run(bin, ['--version'], { slot: false, timeoutMs: 30_000 }) : undefined);
  let version = await probe();
  if (version?.code !== 0) {
    rmSync(prefix, { recursive: true, force: true });
    mkdirSync(prefix, { recursive: true });
    const result = await run('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', `node@${major}`], { timeoutMs: 300_000, kind: 'npm install node' });
    expectOk(result, `npm install node@${major}`);
    version = await probe();
    if (version?.code !== 0) throw new Error(`node@${major} installed but ${bin} does not run`);
  }
  return { bin, version: version.stdout.trim() };
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

/** REDIS_URL when set (CI starts one), else a throwaway redis-server on a free port, stopped by `stop()`. */
export async function redisServer() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: () => {}, owned: false };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const failed = new Promise((_, reject) => child.on('error', (e) => reject(new Error(`cannot start redis-server: ${e.message} (install it, or set REDIS_URL)`))));
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await Promise.race([failed, canConnect(port)]);
    if (up) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`redis-server did not listen on ${port} within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop: () => child.kill(), owned: true };
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.end('PING\r\n');
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}
