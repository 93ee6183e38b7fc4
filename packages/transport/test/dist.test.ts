import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
const mentionsUndici = (file: string) => /["']undici["']/.test(readFileSync(file, 'utf8'));

function runNode(args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
    );
  });
}

/**
 * A project where only @tim-broadcast/transport is installed (its package.json and dist copied, no undici anywhere
 * up the tree), as for a user who did not install the optional peer.
 */
function projectWithoutUndici(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tim-transport-no-undici-'));
  const target = join(dir, 'node_modules', '@tim-broadcast', 'transport');
  mkdirSync(target, { recursive: true });
  cpSync(join(packageDir, 'package.json'), join(target, 'package.json'));
  cpSync(dist, join(target, 'dist'), { recursive: true });
  return dir;
}

function runNodeIn(cwd: string, args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, env: { ...process.env, NODE_PATH: '', ...env }, timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
    );
  });
}

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
    // the undici entry loads it when a transport needs a dispatcher, so a missing package can be named
    expect(mentionsUndici(join(dist, 'undici.mjs'))).toBe(true);
    expect(mentionsUndici(join(dist, 'undici.cjs'))).toBe(true);
  });

  it('without undici installed: the main entry works; undiciTransport() names the package to install (CJS and ESM)', async () => {
    const dir = projectWithoutUndici();
    try {
      const check = (load: string) => `${load}
const res = await fetchTransport().send({ url: process.env.TARGET, body: '{}' });
let undici;
try { undiciTransport(); undici = 'created'; } catch (err) { undici = { name: err.name, sdk: err instanceof TimBroadcastError, message: err.message }; }
console.log(JSON.stringify({ body: res.body, undici }));`;
      const cjs = `(async () => {${check("const { fetchTransport, TimBroadcastError } = require('@tim-broadcast/transport'); const { undiciTransport } = require('@tim-broadcast/transport/undici');")}})();`;
      const esm = check("import { fetchTransport, TimBroadcastError } from '@tim-broadcast/transport'; import { undiciTransport } from '@tim-broadcast/transport/undici';");
      for (const args of [['-e', cjs], ['--input-type=module', '-e', esm]]) {
        const out = await runNodeIn(dir, args, env);
        expect(out.stderr).toBe('');
        const result = JSON.parse(out.stdout);
        expect(result.body).toBe('from-dist');
        expect(result.undici).toMatchObject({ name: 'TimBroadcastError', sdk: true });
        expect(result.undici.message).toContain('npm install undici');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
