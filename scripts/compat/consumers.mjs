// The consumer projects: throwaway npm projects outside the workspace that install the packed tarballs (no
// workspace links) and run the same scenarios as JS-CJS, JS-ESM, TS-CJS (module node16), TS-ESM
// (moduleResolution bundler) and TS-node10 (module commonjs, moduleResolution node10: the resolution of many Nest
// projects, which ignores `exports`), on each Node major.
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectOk, run, tail } from './proc.mjs';
import { readJson } from './workspace.mjs';

const SOURCES = join(dirname(fileURLToPath(import.meta.url)), 'consumers');

export const NODE_MAJORS = [20, 22, 24];
export const KINDS = ['js-cjs', 'js-esm', 'ts-cjs', 'ts-esm', 'ts-node10'];
/** The TypeScript flavours, each compiled in its own folder of a project. */
export const TS_KINDS = KINDS.filter((k) => k.startsWith('ts-'));

/** Installed in every project: the compiler and Node's types at the lowest Node we support. */
const TOOLING = { typescript: '~5.9.3', '@types/node': '^20.19.0' };

/** One project per dependency set; `packages` are ours (their internal dependencies come along). */
export const PROJECTS = {
  base: { label: 'base', packages: ['transport', 'core', 'emulator', 'rate-limit'], deps: { undici: '^7.16.0', ioredis: '^5.8.0', redis: '^5.9.0' } },
  nest10: {
    label: 'nestjs@10',
    packages: ['nestjs', 'emulator'],
    // the peer range claims Nest 10; terminus 11 supports Nest 10 (terminus 10 ignores an indicator's returned 'down')
    deps: { '@nestjs/common': '^10.4.0', '@nestjs/core': '^10.4.0', '@nestjs/platform-express': '^10.4.0', '@nestjs/terminus': '^11.0.0', 'reflect-metadata': '^0.2.2', rxjs: '^7.8.0' },
  },
  nest11: {
    label: 'nestjs@11',
    packages: ['nestjs', 'emulator'],
    deps: { '@nestjs/common': '^11.1.0', '@nestjs/core': '^11.1.0', '@nestjs/platform-express': '^11.1.0', '@nestjs/terminus': '^11.0.0', 'reflect-metadata': '^0.2.2', rxjs: '^7.8.0' },
  },
  nest12: {
    label: 'nestjs@12',
    packages: ['nestjs', 'emulator'],
    // Nest 12 ships ESM only: a CommonJS TypeScript app can use it only in TS's require(esm) mode
    ts: { 'ts-cjs': { module: 'node20', moduleResolution: 'node16' } },
    deps: { '@nestjs/common': '^12.0.0', '@nestjs/core': '^12.0.0', '@nestjs/platform-express': '^12.0.0', '@nestjs/terminus': '^12.0.0', 'reflect-metadata': '^0.2.2', rxjs: '^7.8.0' },
  },
  outbox: { label: 'outbox', packages: ['outbox', 'emulator'], deps: { ioredis: '^5.8.0', redis: '^5.9.0' } },
  express4: { label: 'express@4', packages: ['express', 'emulator'], deps: { express: '^4.21.2', '@types/express': '^4.17.25' } },
  express5: { label: 'express@5', packages: ['express', 'emulator'], deps: { express: '^5.1.0', '@types/express': '^5.0.3' } },
};

/** A scenario is one consumer program (`file`), run in one project; `needs` are the packages it calls. */
export const SCENARIOS = [
  { label: 'transport', file: 'transport', project: 'base', needs: ['transport'] },
  { label: 'core', file: 'core', project: 'base', needs: ['core'] },
  { label: 'emulator', file: 'emulator', project: 'base', needs: ['core', 'emulator'] },
  { label: 'rate-limit · ioredis', file: 'rate-limit', project: 'base', needs: ['rate-limit', 'emulator'], redis: true, env: { COMPAT_REDIS_CLIENT: 'ioredis' } },
  { label: 'rate-limit · node-redis', file: 'rate-limit', project: 'base', needs: ['rate-limit', 'emulator'], redis: true, env: { COMPAT_REDIS_CLIENT: 'node-redis' } },
  { label: 'outbox · ioredis', file: 'outbox', project: 'outbox', needs: ['outbox', 'emulator'], redis: true, env: { COMPAT_REDIS_CLIENT: 'ioredis' } },
  { label: 'outbox · node-redis', file: 'outbox', project: 'outbox', needs: ['outbox', 'emulator'], redis: true, env: { COMPAT_REDIS_CLIENT: 'node-redis' } },
  { label: 'nestjs@10', file: 'nestjs', project: 'nest10', needs: ['nestjs', 'emulator'] },
  { label: 'nestjs@11', file: 'nestjs', project: 'nest11', needs: ['nestjs', 'emulator'] },
  { label: 'nestjs@12', file: 'nestjs', project: 'nest12', needs: ['nestjs', 'emulator'] },
  { label: 'express@4', file: 'express', project: 'express4', needs: ['express', 'emulator'] },
  { label: 'express@5', file: 'express', project: 'express5', needs: ['express', 'emulator'] },
];

/** The environment of everything run in a consumer project: nothing from pnpm or the workspace leaks in. */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|NODE_PATH$|NODE_OPTIONS$|INIT_CWD$|TURBO_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Our packages a project installs: the ones it names and their internal dependencies. */
export function projectPackages(project, byDir) {
  const out = new Set();
  const add = (dir) => {
    if (out.has(dir)) return;
    out.add(dir);
    const manifest = byDir.get(dir)?.manifest ?? {};
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      if (dep.startsWith('@tim-broadcast/')) add(dep.slice('@tim-broadcast/'.length));
    }
  };
  project.packages.forEach(add);
  return [...out];
}

const tsconfig = {
  'ts-cjs': { module: 'node16', moduleResolution: 'node16' },
  'ts-esm': { module: 'esnext', moduleResolution: 'bundler', verbatimModuleSyntax: true },
  'ts-node10': { module: 'commonjs', moduleResolution: 'node10' },
};

/** Writes the project (manifest, consumer sources, tsconfigs) and installs it with plain npm. */
export async function setupProject({ id, dir, tarballs, scenarios }) {
  const project = PROJECTS[id];
  mkdirSync(dir, { recursive: true });
  const dependencies = { ...project.deps, ...TOOLING };
  for (const [name, tarball] of tarballs) dependencies[name] = `file:${tarball}`;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `compat-${id}`, private: true, dependencies }, null, 2)}\n`);

  const files = [...new Set(scenarios.map((s) => s.file))];
  mkdirSync(join(dir, 'js/scenarios'), { recursive: true });
  cpSync(join(SOURCES, 'js/harness.cjs'), join(dir, 'js/harness.cjs'));
  for (const f of files) {
    for (const ext of ['cjs', 'mjs']) cpSync(join(SOURCES, `js/${f}.${ext}`), join(dir, `js/${f}.${ext}`));
    cpSync(join(SOURCES, `js/scenarios/${f}.cjs`), join(dir, `js/scenarios/${f}.cjs`));
  }
  for (const kind of TS_KINDS) {
    mkdirSync(join(dir, kind, 'src'), { recursive: true });
    writeFileSync(join(dir, kind, 'package.json'), `${JSON.stringify({ type: kind === 'ts-esm' ? 'module' : 'commonjs' })}\n`);
    const compilerOptions = {
      ...tsconfig[kind],
      ...project.ts?.[kind],
      target: 'ES2022',
      lib: ['ES2023'],
      types: ['node'],
      strict: true,
      skipLibCheck: false,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
      rootDir: 'src',
      outDir: 'dist',
    };
    writeFileSync(join(dir, kind, 'tsconfig.json'), `${JSON.stringify({ compilerOptions, include: ['src'] }, null, 2)}\n`);
    cpSync(join(SOURCES, 'ts/harness.ts'), join(dir, kind, 'src/harness.ts'));
    for (const f of files) cpSync(join(SOURCES, `ts/${f}.ts`), join(dir, kind, `src/${f}.ts`));
  }

  const result = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env: cleanEnv(), timeoutMs: 400_000, kind: 'npm install' });
  expectOk(result, 'npm install');
  return checkInstall(dir, tarballs);
}

/** Each of our packages is installed once, as a real folder holding the packed files (no link, no registry copy). */
function checkInstall(dir, tarballs) {
  const problems = [];
  const copies = new Map();
  const walk = (nm) => {
    if (!existsSync(nm)) return;
    for (const e of readdirSync(nm)) {
      if (e.startsWith('.')) continue;
      const scopeDir = join(nm, e);
      const names = e.startsWith('@') ? readdirSync(scopeDir).map((n) => `${e}/${n}`) : [e];
      for (const name of names) {
        const path = join(nm, name);
        if (name.startsWith('@tim-broadcast/')) copies.set(name, [...(copies.get(name) ?? []), path]);
        if (existsSync(join(path, 'node_modules'))) walk(join(path, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  for (const [name] of tarballs) {
    const paths = copies.get(name) ?? [];
    if (paths.length !== 1) problems.push(`${name} is installed ${paths.length} times${paths.length ? `: ${paths.join(', ')}` : ''}`);
    for (const p of paths) {
      if (lstatSync(p).isSymbolicLink()) problems.push(`${p} is a link, not an installed copy`);
      if (existsSync(join(p, 'src'))) problems.push(`${p} holds src/`);
    }
  }
  if (problems.length) throw new Error(problems.join('\n'));
  const installed = readdirSync(join(dir, 'node_modules')).length;
  return `${installed} top-level modules`;
}

/**
 * One `tsc -b` per project builds every TS flavour (build mode shares the parsed declaration files between
 * them): type-checks, our .d.ts files included (skipLibCheck false), and emits the JS to run.
 * Resolves with `{ 'ts-cjs': { ok, mode, errors }, 'ts-esm': ... }`.
 */
export async function compileTs(dir) {
  const kinds = TS_KINDS;
  const tsc = join(dir, 'node_modules/typescript/bin/tsc');
  const result = await run(process.execPath, [tsc, '-b', ...kinds, '--force', '--verbose', '--pretty', 'false'], { cwd: dir, env: cleanEnv(), timeoutMs: 300_000, kind: 'tsc' });
  if (result.timedOut) throw new Error(`tsc timed out\n${tail(result)}`);
  const out = {};
  for (const kind of kinds) {
    const { compilerOptions: o } = readJson(join(dir, kind, 'tsconfig.json'));
    out[kind] = { ok: true, mode: `module ${o.module}, moduleResolution ${o.moduleResolution}`, errors: [] };
  }
  let current;
  for (const line of `${result.stdout}\n${result.stderr}`.split('\n')) {
    const building = /Building project '.*\/(ts-[a-z0-9]+)\/tsconfig\.json'/.exec(line);
    if (building) current = building[1];
    else if (/error TS\d+/.test(line)) {
      const kind = kinds.find((k) => line.startsWith(`${k}/`)) ?? current;
      if (kind) out[kind].errors.push(line);
    }
  }
  for (const kind of kinds) out[kind].ok = out[kind].errors.length === 0;
  if (result.code !== 0 && kinds.every((k) => out[k].ok)) throw new Error(`tsc -b exited with ${result.code} without a type error\n${tail(result)}`);
  return out;
}

export function consumerFile(dir, kind, scenario) {
  if (kind === 'js-cjs') return join(dir, 'js', `${scenario.file}.cjs`);
  if (kind === 'js-esm') return join(dir, 'js', `${scenario.file}.mjs`);
  return join(dir, kind, 'dist', `${scenario.file}.js`);
}

export async function runConsumer({ node, file, cwd, env }) {
  if (!existsSync(file)) throw new Error(`${file} was not emitted`);
  const result = await run(node, [file], { cwd, env: cleanEnv(env), timeoutMs: 60_000, kind: 'consumers' });
  if (result.code === 0 && !result.timedOut) return;
  if (result.timedOut) throw new Error(`timed out after 60 s\n${tail(result, 6)}`);
  const reason = errorSummary(`${result.stderr}\n${result.stdout}`) ?? `exited with ${result.code ?? result.signal}\n${tail(result)}`;
  throw new Error(reason.replaceAll(`${cwd}/node_modules/`, '').replaceAll(`${cwd}/`, ''));
}

/** The error a consumer died of: its first `SomeError: message` line and the few lines after it (not the stack). */
function errorSummary(output) {
  const lines = output.split('\n');
  const at = lines.findIndex((l) => /^\s*(\w*Error|\w+Exception)( \[\w+\])?: /.test(l));
  if (at < 0) return undefined;
  const noise = /^\s+at |^Require stack:|^- \/|^\s*(code|requireStack|generatedMessage|operator|path|url):|^\s*[{}\]]|^Node\.js v/;
  const rest = lines.slice(at + 1, at + 12).filter((l) => l.trim() && !noise.test(l));
  return [lines[at].trim(), ...rest.slice(0, 3).map((l) => l.trim())].join('\n');
}

