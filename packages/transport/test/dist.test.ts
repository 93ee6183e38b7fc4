import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadPort, startServer, type TestServer } from './helpers';

// The built package, as users load it: child processes import it by name from the repo root.
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = join(packageDir, '..', '..');
const dist = join(packageDir, 'dist');

/** Relative imports of a built file, followed transitively; returns the files reached. */
function importGraph(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:from\s*|require\()\s*["'](\.{1,2}\/[^"']+)["']/g)) visit(join(dirname(file), spec!));
  };
  visit(entry);
  return [...seen];
}

const importsUndici = (file: string) => /(?:from\s*|require\(|import\()\s*["']undici["']/.test(readFileSync(file, 'utf8'));

function runNode(args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
    );
  });
}

// Makes `undici` unresolvable, as for a user who did not install the optional peer.
const BLOCK_UNDICI_CJS = `
const Module = require('node:module');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'undici') throw Object.assign(new Error("Cannot find module 'undici'"), { code: 'MODULE_NOT_FOUND' });
  return resolveFilename.call(this, request, ...rest);
};`;
const BLOCK_UNDICI_HOOK = `export async function resolve(specifier, context, next) {
  if (specifier === 'undici') throw Object.assign(new Error("Cannot find package 'undici'"), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(specifier, context);
}`;
const dataUrl = (code: string) => `data:text/javascript,${encodeURIComponent(code)}`;
const BLOCK_UNDICI_ESM = dataUrl(`import { register } from 'node:module'; register(${JSON.stringify(dataUrl(BLOCK_UNDICI_HOOK))});`);

describe('built package (dist)', () => {
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    if (!existsSync(join(dist, 'index.mjs')) || !existsSync(join(dist, 'undici.cjs'))) {
      throw new Error('packages/transport/dist is missing: build first (pnpm build)');
    }
    server = await startServer((_req, res) => res.end('from-dist'));
    env = { TARGET: server.url, DEAD: `http://127.0.0.1:${await deadPort()}/x?usersig=SECRET-SIG-123`, HTTP_PROXY: '', http_proxy: '' };
  });
  afterAll(() => server?.close());

  it('only the undici entry imports undici', () => {
    for (const entry of ['index.mjs', 'index.cjs']) {
      const files = importGraph(join(dist, entry));
      expect(files.length).toBeGreaterThan(1);
      expect(files.filter(importsUndici)).toEqual([]);
    }
    expect(importsUndici(join(dist, 'undici.mjs'))).toBe(true);
    expect(importsUndici(join(dist, 'undici.cjs'))).toBe(true);
  });

  it('CJS: the main entry works without undici installed; the undici entry needs it', async () => {
    const script = `${BLOCK_UNDICI_CJS}
const { fetchTransport } = require('@tim-broadcast/transport');
fetchTransport().send({ url: process.env.TARGET, body: '{}' }).then((res) => {
  let undici = 'loaded';
  try { require('@tim-broadcast/transport/undici'); } catch (err) { undici = err.code; }
  console.log(JSON.stringify({ body: res.body, undici }));
});`;
    const out = await runNode(['-e', script], env);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ body: 'from-dist', undici: 'MODULE_NOT_FOUND' });
  });

  it('ESM: the main entry works without undici installed; the undici entry needs it', async () => {
    const script = `
import { fetchTransport } from '@tim-broadcast/transport';
const res = await fetchTransport().send({ url: process.env.TARGET, body: '{}' });
let undici = 'loaded';
try { await import('@tim-broadcast/transport/undici'); } catch (err) { undici = err.code; }
console.log(JSON.stringify({ body: res.body, undici }));`;
    const out = await runNode(['--import', BLOCK_UNDICI_ESM, '--input-type=module', '-e', script], env);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ body: 'from-dist', undici: 'ERR_MODULE_NOT_FOUND' });
  });

  it('CJS and ESM: both transports send, and share one set of error classes per format', async () => {
    const body = (load: string) => `${load}
const t = undiciTransport({ proxy: false });
const res = await t.send({ url: process.env.TARGET, body: '{}' });
const err = await t.send({ url: process.env.DEAD, body: '{}' }).catch((e) => e);
await t.close();
const viaFetch = await fetchTransport().send({ url: process.env.TARGET, body: '{}' });
console.log(JSON.stringify({ body: res.body, fetchBody: viaFetch.body, isTransportError: err instanceof TransportError, code: err.code, message: err.message }));`;
    const cjs = `(async () => {${body(
      "const { fetchTransport, TransportError } = require('@tim-broadcast/transport'); const { undiciTransport } = require('@tim-broadcast/transport/undici');",
    )}})();`;
    const esm = body(
      "import { fetchTransport, TransportError } from '@tim-broadcast/transport'; import { undiciTransport } from '@tim-broadcast/transport/undici';",
    );
    const expected = { body: 'from-dist', fetchBody: 'from-dist', isTransportError: true, code: 'ECONNREFUSED' };
    for (const args of [['-e', cjs], ['--input-type=module', '-e', esm]]) {
      const out = await runNode(args, env);
      expect(out.stderr).toBe('');
      const result = JSON.parse(out.stdout);
      expect(result).toMatchObject(expected);
      expect(result.message).not.toContain('SECRET-SIG-123');
    }
  });
});
