// A throwaway redis-server for the benchmarks (as scripts/test.sh starts one for the tests): on a free port, no
// persistence, stopped by close(). The benchmarks never rely on a server at 6379.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

/** ioredis, from the rate-limit package (a dev dependency there; the repository root does not install it). */
export const ioredis = createRequire(new URL('../packages/rate-limit/package.json', import.meta.url))('ioredis');

export class MissingRedisError extends Error {}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/** Starts redis-server and resolves with { url, port, cli(...args), close() }; fails fast with what it needs. */
export async function startRedis() {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new MissingRedisError('the rate-limit benchmarks need redis-server on PATH (Debian: apt-get install redis-server); none was found');
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out.slice(-300)}`)), 10_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-300)}`)));
  });
  const cli = (...args) => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    cli,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGKILL');
      }),
  };
}
