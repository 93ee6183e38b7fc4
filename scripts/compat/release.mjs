// The release flow: `changeset version` in a throwaway copy of the workspace manifests, and
// `pnpm -r publish --dry-run` in the real repo, which must leave it untouched.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectOk, run, tail } from './proc.mjs';
import { readJson } from './workspace.mjs';

/** name -> { dir, manifest } for every workspace package (packages/* and apps/*). */
function workspacePackages(base) {
  const out = new Map();
  for (const top of ['packages', 'apps']) {
    if (!existsSync(join(base, top))) continue;
    for (const e of readdirSync(join(base, top), { withFileTypes: true })) {
      const file = join(base, top, e.name, 'package.json');
      if (e.isDirectory() && existsSync(file)) {
        const manifest = readJson(file);
        out.set(manifest.name, { dir: `${top}/${e.name}`, manifest });
      }
    }
  }
  return out;
}

/**
 * What `changeset version` must bump for a changeset naming `named`: the named packages, plus every package that
 * depends on a bumped one through dependencies or peerDependencies (with `updateInternalDependencies: "patch"`
 * their ranges are rewritten, and a rewritten range is a patch release of the dependent). devDependencies alone
 * bump nothing.
 */
export function expectedBumps(pkgs, named) {
  const bumped = new Set(named);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, { manifest }] of pkgs) {
      if (bumped.has(name)) continue;
      const deps = { ...manifest.dependencies, ...manifest.peerDependencies };
      if (Object.keys(deps).some((d) => bumped.has(d))) {
        bumped.add(name);
        grew = true;
      }
    }
  }
  return bumped;
}

function bumpOf(from, to) {
  const [a, b, c] = from.split('.').map(Number);
  const [x, y, z] = to.split('.').map(Number);
  if (x > a) return 'major';
  if (y > b) return 'minor';
  if (z > c) return 'patch';
  return 'none';
}

/** Runs one sample changeset in a fresh copy and checks exactly the expected packages were bumped. */
async function versionSample(root, work, sample) {
  mkdirSync(work, { recursive: true });
  for (const f of ['package.json', 'pnpm-workspace.yaml', '.changeset/config.json']) {
    mkdirSync(join(work, f, '..'), { recursive: true });
    cpSync(join(root, f), join(work, f));
  }
  const before = workspacePackages(root);
  for (const { dir } of before.values()) {
    mkdirSync(join(work, dir), { recursive: true });
    cpSync(join(root, dir, 'package.json'), join(work, dir, 'package.json'));
  }
  const front = Object.entries(sample.bumps).map(([n, t]) => `"${n}": ${t}`).join('\n');
  writeFileSync(join(work, '.changeset/compat-sample.md'), `---\n${front}\n---\n\nA sample change made by the compat matrix.\n`);
  const result = await run(process.execPath, [join(root, 'node_modules/@changesets/cli/bin.js'), 'version'], { cwd: work, timeoutMs: 60_000, kind: 'changeset version' });
  expectOk(result, 'changeset version');

  const after = workspacePackages(work);
  const expected = expectedBumps(before, Object.keys(sample.bumps));
  const problems = [];
  for (const [name, { manifest }] of before) {
    const now = after.get(name)?.manifest.version;
    const kind = bumpOf(manifest.version, now);
    const want = sample.bumps[name] ?? (expected.has(name) ? 'patch' : 'none');
    if (kind !== want) problems.push(`${name}: ${manifest.version} -> ${now} is a ${kind} bump, expected ${want}`);
    const changelog = existsSync(join(work, after.get(name).dir, 'CHANGELOG.md'));
    if (changelog !== (want !== 'none')) problems.push(`${name}: CHANGELOG.md ${changelog ? 'written' : 'missing'}`);
  }
  if (existsSync(join(work, '.changeset/compat-sample.md'))) problems.push('the changeset file was not consumed');
  if (problems.length) throw new Error(`sample ${JSON.stringify(sample.bumps)}:\n${problems.join('\n')}`);
  return [...expected].length;
}

export async function changesetVersionCell(root, work, publicNames) {
  const pkgs = workspacePackages(root);
  const present = publicNames.filter((n) => pkgs.has(n));
  // the package with the fewest dependents (only it and they move) and core (its dependents move, transport must not)
  const leaf = [...present].sort((a, b) => expectedBumps(pkgs, [a]).size - expectedBumps(pkgs, [b]).size)[0];
  const middle = present.includes('@tim-broadcast/core') ? '@tim-broadcast/core' : present[0];
  const notes = [];
  for (const [i, name, type] of [[0, leaf, 'patch'], [1, middle, 'minor']]) {
    if (!name) continue;
    const count = await versionSample(root, join(work, `sample-${i}`), { bumps: { [name]: type } });
    notes.push(`${type} ${name.replace('@tim-broadcast/', '')} -> ${count} bumped`);
  }
  return notes.join('; ');
}

/**
 * What a publish could write: files created or deleted at the top of the repo, of .changeset/ and of each
 * workspace package (a tarball, a summary), and any change to a package.json (a rewrite of workspace ranges).
 */
function snapshot(root) {
  const dirs = ['.', '.changeset', ...[...workspacePackages(root).values()].map((p) => p.dir)];
  const out = new Map();
  for (const d of dirs) {
    for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
      if (!e.isFile()) continue;
      const path = `${d}/${e.name}`;
      out.set(path, e.name === 'package.json' ? readFileSync(join(root, path), 'utf8') : 'file');
    }
  }
  return out;
}

export async function publishDryRunCell(root, publicPackages) {
  const before = snapshot(root);
  const result = await run('pnpm', ['-r', 'publish', '--dry-run', '--no-git-checks'], { cwd: root, timeoutMs: 180_000, kind: 'pnpm publish --dry-run' });
  expectOk(result, 'pnpm -r publish --dry-run');
  const after = snapshot(root);
  const problems = [];
  for (const [k, v] of after) if (before.get(k) !== v) problems.push(`${k} was ${before.has(k) ? 'changed' : 'created'}`);
  for (const k of before.keys()) if (!after.has(k)) problems.push(`${k} was deleted`);
  const text = `${result.stdout}\n${result.stderr}`;
  for (const { name, manifest } of publicPackages) {
    if (!text.includes(`+ ${name}@${manifest.version}`)) problems.push(`${name}@${manifest.version} was not in the publish output`);
  }
  for (const [name, { manifest }] of workspacePackages(root)) {
    if (manifest.private && text.includes(`+ ${name}@`)) problems.push(`private ${name} would be published`);
  }
  if (problems.length) throw new Error(`${problems.join('\n')}\n${tail(result, 6)}`);
  return `${publicPackages.length} packages would publish; repo unchanged`;
}
