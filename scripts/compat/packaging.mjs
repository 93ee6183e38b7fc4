// Packaging checks, run on the packed tarball (what users get), each reported as its own cell.
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expectOk, run, tail } from './proc.mjs';

const bin = (root, name) => join(root, 'node_modules/.bin', name);

/** Every file in an extracted package, as paths relative to it. */
export function listFiles(dir, rel = '') {
  const out = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, p));
    else out.push(p);
  }
  return out.sort();
}

export async function publintCell(root, tarball) {
  const result = await run(bin(root, 'publint'), ['run', tarball, '--strict'], { timeoutMs: 60_000, kind: 'publint' });
  expectOk(result, 'publint --strict');
  if (!/All good/.test(result.stdout)) throw new Error(`publint reported:\n${tail(result)}`);
}

/** One attw run per tarball (the strict profile: node10, node16-cjs, node16-esm and bundler), split into cells. */
export function attwRunner(root) {
  const cache = new Map();
  return (tarball) => {
    if (!cache.has(tarball)) {
      cache.set(
        tarball,
        run(bin(root, 'attw'), [tarball, '--format', 'json'], { timeoutMs: 120_000, kind: 'attw' }).then((result) => {
          let report;
          try {
            report = JSON.parse(result.stdout);
          } catch {
            throw new Error(`attw printed no JSON (exit ${result.code})\n${tail(result)}`);
          }
          // a package without declarations has no problems to report, and attw exits 0: that is a failure here
          if (report.analysis?.types?.kind !== 'included') return [{ kind: 'NoTypesIncluded', entrypoint: '(package)' }];
          return report.analysis?.problems ?? [];
        }),
      );
    }
    return cache.get(tarball);
  };
}

export async function attwCell(problemsPromise, kinds) {
  const problems = (await problemsPromise).filter((p) => !p.resolutionKind || kinds.includes(p.resolutionKind));
  if (problems.length) {
    throw new Error(`attw: ${problems.length} problem(s)\n${problems.map((p) => `${p.kind} ${p.entrypoint ?? p.fileName ?? ''} [${p.resolutionKind ?? 'all'}]`).join('\n')}`);
  }
}

const ALLOWED_TOP = new Set(['package.json', 'README.md', 'LICENSE', 'LICENSE.md', 'CHANGELOG.md']);
const FORBIDDEN = [
  [/\.map$/, 'source map'],
  [/(^|\/)[^/]*\.(test|spec)\.[cm]?[jt]sx?$/, 'test file'],
  [/(^|\/)(__tests__|__mocks__|test|tests|fixtures)\//, 'test folder'],
  [/\.tsbuildinfo$/, 'tsbuildinfo'],
  [/(^|\/)\.env/, '.env file'],
  [/(^|\/)[^/]*\.ts$/, 'TypeScript source'],
];

/** The tarball holds dist/ plus the usual top-level files, a README, and every file its exports point at. */
export function filesCell(dir, manifest) {
  const files = listFiles(dir);
  const problems = [];
  for (const f of files) {
    const forbidden = FORBIDDEN.find(([re]) => re.test(f) && !/\.d\.[cm]?ts$/.test(f));
    if (forbidden) problems.push(`${f}: ${forbidden[1]}`);
    else if (!f.startsWith('dist/') && !ALLOWED_TOP.has(f)) problems.push(`${f}: outside dist/`);
  }
  if (!files.includes('README.md')) problems.push('README.md is missing');
  for (const target of exportTargets(manifest)) {
    if (!existsSync(join(dir, target))) problems.push(`exports points at ${target}, which is not in the tarball`);
  }
  for (const field of ['main', 'module', 'types']) {
    if (manifest[field] && !existsSync(join(dir, manifest[field]))) problems.push(`"${field}" points at ${manifest[field]}, which is not in the tarball`);
  }
  for (const target of Object.values(typeof manifest.bin === 'string' ? { bin: manifest.bin } : (manifest.bin ?? {}))) {
    if (!existsSync(join(dir, target))) problems.push(`bin ${target} is not in the tarball`);
  }
  if (problems.length) throw new Error(problems.join('\n'));
  return `${files.length} files`;
}

function exportTargets(manifest) {
  const out = new Set();
  const walk = (v) => {
    if (typeof v === 'string') out.add(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(manifest.exports);
  return [...out].filter((t) => !t.includes('*'));
}

/**
 * Strings that must never ship: the secret keys and UserSigs the repo's tests and fixtures use, private keys,
 * and absolute paths of the machine that built the package.
 */
export function collectSecrets(root) {
  const secrets = new Set();
  const vectors = join(root, 'spec/fixtures/usersig-vectors.json');
  if (existsSync(vectors)) {
    for (const v of JSON.parse(readFileSync(vectors, 'utf8'))) {
      secrets.add(v.key);
      secrets.add(v.userSig);
    }
  }
  const literal = /(?:secret\w*|SECRET\w*|secretKey|key)\s*[:=]\s*(['"`])([^'"`\s]{10,})\1/g;
  const visit = (dir, inTests) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) visit(p, inTests || e.name === 'test' || e.name === 'tests');
      else if (/\.[cm]?[jt]s$/.test(e.name) && (inTests || /\.test\.[cm]?[jt]s$/.test(e.name))) {
        for (const m of readFileSync(p, 'utf8').matchAll(literal)) if (!m[2].includes('${')) secrets.add(m[2]);
      }
    }
  };
  for (const top of ['packages', 'apps']) if (existsSync(join(root, top))) visit(join(root, top), false);
  return [...secrets].filter((s) => s && s.length >= 10);
}

const SECRET_PATTERNS = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/\bAKIA[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/sourceMappingURL=data:/, 'an inline source map'],
  [/"sourcesContent"\s*:/, 'source map contents'],
];

export function secretsCell(dir, secrets, root) {
  const problems = [];
  for (const f of listFiles(dir)) {
    const path = join(dir, f);
    if (statSync(path).size > 5_000_000) continue;
    const text = readFileSync(path, 'utf8');
    for (const s of secrets) if (text.includes(s)) problems.push(`${f}: contains a secret used by the repo's tests (${s.slice(0, 4)}…, ${s.length} chars)`);
    for (const [re, what] of SECRET_PATTERNS) if (re.test(text)) problems.push(`${f}: contains ${what}`);
    if (text.includes(root)) problems.push(`${f}: contains the build machine's path ${root}`);
  }
  if (problems.length) throw new Error(problems.join('\n'));
  return `${secrets.length} known secrets checked`;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+|\bexport\s*\*\s*from\s*)(['"])([^'"\n]+)\1/gm;
const STATIC_SPECIFIER = /(?:^|[;}\n])\s*(?:import|export)\s*(?:[^'"();]*?\bfrom\s*)?(['"])([^'"\n]+)\1/g;
const isBuiltin = (s) => s.startsWith('node:') || builtinModules.includes(s.split('/')[0]);
const packageOf = (s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]);
const isBare = (s) => !s.startsWith('.') && !s.startsWith('/') && !/^[a-z]+:/.test(s);

/** Long string literals (embedded assets such as the emulator's dashboard script) hold text, not imports. */
const LONG_STRING = /"(?:[^"\\\n]|\\.){300,}"|'(?:[^'\\\n]|\\.){300,}'|`(?:[^`\\]|\\.){300,}`/g;
const code = (text) => text.replace(LONG_STRING, '""');

/** The bare packages a file imports, statically or not (for .d.ts files too). */
function importsOf(text) {
  return [...code(text).matchAll(SPECIFIER)].map((m) => m[2]).filter((s) => isBare(s) && !isBuiltin(s)).map(packageOf);
}

/** Bare packages reachable through static imports from one ESM entry file (following relative chunks). */
function staticGraph(dir, entry) {
  const seen = new Set();
  const bare = new Set();
  const visit = (rel) => {
    if (seen.has(rel) || !existsSync(join(dir, rel))) return;
    seen.add(rel);
    const text = code(readFileSync(join(dir, rel), 'utf8'));
    for (const m of text.matchAll(STATIC_SPECIFIER)) {
      const spec = m[2];
      if (spec.startsWith('.')) visit(join(rel, '..', spec));
      else if (isBare(spec) && !isBuiltin(spec)) bare.add(packageOf(spec));
    }
  };
  visit(entry);
  return bare;
}

function esmEntry(exp) {
  if (typeof exp === 'string') return exp;
  if (!exp || typeof exp !== 'object') return undefined;
  return esmEntry(exp.import) ?? esmEntry(exp.node) ?? esmEntry(exp.default);
}

/**
 * The manifest users install: engines, sideEffects, no workspace ranges, every import declared, and optional
 * peers exactly where they are optional (not needed to load the main entry).
 */
export function manifestCell(dir, manifest, { engines }) {
  const problems = [];
  if (manifest.engines?.node !== engines) problems.push(`engines.node is ${JSON.stringify(manifest.engines?.node)}, expected "${engines}" (the root's)`);
  if (manifest.sideEffects !== false && !Array.isArray(manifest.sideEffects)) problems.push('sideEffects is not declared (false, or the list of files with side effects)');
  if (!manifest.license) problems.push('license is missing');
  if (manifest.private) problems.push('package is private');
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|link|file|catalog):/.test(range)) problems.push(`${field}.${name} is "${range}" in the packed manifest`);
    }
  }
  const deps = new Set(Object.keys(manifest.dependencies ?? {}));
  const peers = manifest.peerDependencies ?? {};
  const meta = manifest.peerDependenciesMeta ?? {};
  for (const name of Object.keys(meta)) if (!(name in peers)) problems.push(`peerDependenciesMeta.${name} names no peer dependency`);
  for (const name of Object.keys(peers)) if (deps.has(name)) problems.push(`${name} is both a dependency and a peer dependency`);

  const files = listFiles(dir).filter((f) => f.startsWith('dist/') && /\.(mjs|cjs|js|d\.mts|d\.cts|d\.ts)$/.test(f));
  const usedAnywhere = new Set();
  for (const f of files) {
    for (const name of importsOf(readFileSync(join(dir, f), 'utf8'))) {
      usedAnywhere.add(name);
      if (!deps.has(name) && !(name in peers) && name !== manifest.name) problems.push(`${f} imports "${name}", which is neither a dependency nor a peer dependency`);
    }
  }
  const main = esmEntry(typeof manifest.exports === 'object' && !Array.isArray(manifest.exports) && '.' in manifest.exports ? manifest.exports['.'] : manifest.exports);
  const mainStatic = main ? staticGraph(dir, main.replace(/^\.\//, '')) : new Set();
  for (const name of Object.keys(peers)) {
    const optional = meta[name]?.optional === true;
    if (optional && mainStatic.has(name)) problems.push(`peer ${name} is marked optional, but the main entry imports it statically (loading the package needs it)`);
    if (!optional && usedAnywhere.has(name) && !mainStatic.has(name)) problems.push(`peer ${name} is only needed by a subpath or lazily, but peerDependenciesMeta.${name}.optional is not true`);
  }
  if (problems.length) throw new Error([...new Set(problems)].join('\n'));
  const optional = Object.keys(meta).filter((n) => meta[n]?.optional);
  return optional.length ? `optional peers: ${optional.join(', ')}` : undefined;
}
