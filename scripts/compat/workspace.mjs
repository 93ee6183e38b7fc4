// The public packages of the workspace: which exist yet, building them, packing each with `pnpm pack` (which
// rewrites `workspace:` ranges into real ones), and the `--break` sabotage used to prove the matrix catches a
// broken tarball.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expectOk, run } from './proc.mjs';

/** Every public package the matrix knows, in dependency order. */
export const PUBLIC_PACKAGES = ['transport', 'core', 'emulator', 'rate-limit', 'outbox', 'nestjs', 'express', 'cli'];

export const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** `{ dir, name, manifest, present, why }` for each known package; `present` is false while it is being written. */
export function discoverPackages(root) {
  const found = PUBLIC_PACKAGES.map((dir) => {
    const path = join(root, 'packages', dir);
    const manifestPath = join(path, 'package.json');
    if (!existsSync(manifestPath)) return { dir, name: `@tim-broadcast/${dir}`, path, present: false, why: `packages/${dir}/package.json does not exist yet` };
    const manifest = readJson(manifestPath);
    if (!existsSync(join(path, 'src/index.ts'))) return { dir, name: manifest.name, path, manifest, present: false, why: `packages/${dir}/src/index.ts does not exist yet` };
    return { dir, name: manifest.name, path, manifest, present: true };
  });
  // any other public package in packages/ is unknown to the matrix: say so rather than ignore it
  const unknown = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !PUBLIC_PACKAGES.includes(d.name) && existsSync(join(root, 'packages', d.name, 'package.json')))
    .map((d) => ({ dir: d.name, manifest: readJson(join(root, 'packages', d.name, 'package.json')) }))
    .filter((p) => !p.manifest.private)
    .map((p) => p.manifest.name);
  return { packages: found, unknown };
}

/** Builds the present packages (turbo; cached after `pnpm build`). */
export async function buildPackages(root, packages) {
  const filters = packages.filter((p) => p.present).map((p) => `--filter=${p.name}`);
  const result = await run('pnpm', ['exec', 'turbo', 'run', 'build', ...filters, '--continue', '--output-logs=errors-only'], { cwd: root, timeoutMs: 300_000, kind: 'build' });
  expectOk(result, 'turbo run build');
}

/** Packs one package into `dest` and returns the tarball's path. */
export async function packPackage(pkg, dest) {
  mkdirSync(dest, { recursive: true });
  const result = expectOk(await run('pnpm', ['pack', '--pack-destination', dest, '--json'], { cwd: pkg.path, timeoutMs: 60_000, kind: 'pnpm pack' }), 'pnpm pack');
  const tarball = readdirSync(dest).find((f) => f.endsWith('.tgz') && f.startsWith(pkg.name.replace('@', '').replace('/', '-') + '-'));
  if (!tarball) throw new Error(`pnpm pack wrote no tarball for ${pkg.name}\n${result.stdout.slice(-500)}`);
  return join(dest, tarball);
}

/** Lists and extracts a tarball into `dir` (its files end up under dir/package). */
export async function extractTarball(tarball, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  expectOk(await run('tar', ['-xzf', tarball, '-C', dir], { slot: false }), `tar -xzf ${tarball}`);
  return join(dir, 'package');
}

const SABOTAGE = {
  cjs: (f) => f.endsWith('.cjs'),
  esm: (f) => f.endsWith('.mjs') || (f.endsWith('.js') && !f.endsWith('.d.js')),
  types: (f) => /\.d\.[cm]?ts$/.test(f),
};

/**
 * `--break <pkg>:<what>`: removes the CJS build (`cjs`), the ESM build (`esm`) or the declarations (`types`) from
 * the packed tarball, inside the temp folder only; the workspace is never touched.
 */
export async function sabotageTarball(tarball, what, work) {
  const match = SABOTAGE[what];
  if (!match) throw new Error(`--break: unknown part "${what}" (use ${Object.keys(SABOTAGE).join(', ')})`);
  const dir = await extractTarball(tarball, join(work, 'sabotage'));
  const removed = [];
  const walk = (rel) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (p.startsWith('dist/') && match(p)) {
        rmSync(join(dir, p));
        removed.push(p);
      }
    }
  };
  walk('');
  expectOk(await run('tar', ['-czf', tarball, '-C', join(work, 'sabotage'), 'package'], { slot: false }), 'tar -czf');
  return removed;
}
