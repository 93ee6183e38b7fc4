// The limiter as it was before issue 13 ("before" in the benchmarks), rebuilt at bench time from git rather than
// kept as a copy: the sources of packages/rate-limit/src at BEFORE_REF, bundled into bench/.before/ (gitignored).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BEFORE_REF = '0c2f567';
const root = fileURLToPath(new URL('..', import.meta.url));
const out = fileURLToPath(new URL('./.before/', import.meta.url));
/** The bundle workers import. */
export const BEFORE_MODULE = join(out, 'dist/index.mjs');

export async function buildBeforeLimiter() {
  const stamp = join(out, 'ref');
  if (existsSync(BEFORE_MODULE) && existsSync(stamp) && readFileSync(stamp, 'utf8') === BEFORE_REF) return BEFORE_MODULE;
  rmSync(out, { recursive: true, force: true });
  const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
  const files = git('ls-tree', '-r', '--name-only', BEFORE_REF, 'packages/rate-limit/src').split('\n').filter((f) => f.endsWith('.ts'));
  if (files.length === 0) throw new Error(`no packages/rate-limit/src at ${BEFORE_REF}`);
  for (const file of files) {
    const target = join(out, file.replace('packages/rate-limit/', ''));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, git('show', `${BEFORE_REF}:${file}`));
  }
  // dependencies stay imports (resolved from the repository root at run time)
  writeFileSync(join(out, 'package.json'), JSON.stringify({ name: 'before-limiter', private: true, type: 'module', dependencies: { '@tim-broadcast/core': '*', ioredis: '*' } }));
  const { build } = await import('tsdown');
  await build({ cwd: out, entry: ['src/index.ts'], format: ['esm'], platform: 'node', target: 'node20', dts: false, outDir: 'dist', logLevel: 'warn', config: false });
  writeFileSync(stamp, BEFORE_REF);
  return BEFORE_MODULE;
}
