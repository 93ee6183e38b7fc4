#!/usr/bin/env node
// The compatibility and packaging matrix (`pnpm test:compat`): packs every public package, checks each tarball,
// installs the tarballs with plain npm into throwaway projects outside the workspace, and runs the consumers
// (JS-CJS, JS-ESM, TS-CJS, TS-ESM on Node 20, 22 and 24; TS-node10 on the first) with each framework major and Redis
// client. The README cells install what the Nest and Express READMEs say, with npm and with pnpm, and run their snippets.
// Prints one line per cell and writes a JSON report; exits 1 when any cell failed.
//
//   node scripts/compat.mjs [--json <file>] [--node 20,22,24] [--only <text>] [--break <pkg>:cjs|esm|types]
//                           [--without <pkg>] [--skip-build] [--keep] [--concurrency <n>] [--verbose]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KINDS, NODE_MAJORS, PROJECTS, SCENARIOS, TS_KINDS, compileTs, consumerFile, projectPackages, runConsumer, setupProject } from './compat/consumers.mjs';
import { attwCell, attwRunner, collectSecrets, filesCell, manifestCell, publintCell, secretsCell } from './compat/packaging.mjs';
import { killAll, setConcurrency, timings } from './compat/proc.mjs';
import { README_EXTRAS, readmeCell } from './compat/readme.mjs';
import { changesetVersionCell, publishDryRunCell } from './compat/release.mjs';
import { npxCliCell, npxInstall } from './compat/cli.mjs';
import { createMatrix, Skip, summarize } from './compat/report.mjs';
import { nodeBinary, redisServer } from './compat/runtimes.mjs';
import { buildPackages, discoverPackages, extractTarball, packPackage, readJson, sabotageTarball } from './compat/workspace.mjs';

const root = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    json: { type: 'string', default: join(root, '.tmp/compat.json') },
    node: { type: 'string', default: NODE_MAJORS.join(',') },
    only: { type: 'string' },
    break: { type: 'string', multiple: true, default: [] },
    without: { type: 'string', multiple: true, default: [] },
    'skip-build': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '3' },
    verbose: { type: 'boolean', default: false },
  },
});
setConcurrency(Number(args.concurrency));
const majors = args.node.split(',').map(Number);
const started = Date.now();

/** Memoizes an async step so every cell that needs it shares one run. */
const once = (fn) => {
  const cache = new Map();
  return (key) => {
    if (!cache.has(key)) cache.set(key, Promise.resolve().then(() => fn(key)));
    return cache.get(key);
  };
};
/** A cell whose prerequisite failed fails too, naming the prerequisite instead of repeating its reason. */
const needs = async (promise, what) => {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof Skip) throw error;
    throw new Error(`not run: ${what} failed`);
  }
};

const work = mkdtempSync(join(tmpdir(), 'tim-broadcast-compat-'));
let redis;
const cleanup = () => {
  killAll();
  redis?.stop();
  if (!args.keep) rmSync(work, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (cleanup(), process.exit(130)));

const sabotage = new Map(
  args.break.map((spec) => {
    const [pkg, part] = spec.split(':');
    return [pkg, part ?? 'cjs'];
  }),
);

const { packages, unknown } = discoverPackages(root);
const byDir = new Map(packages.map((p) => [p.dir, p]));
for (const dir of args.without) Object.assign(byDir.get(dir) ?? {}, { present: false, why: `left out with --without ${dir}` });
// a package is usable when it and every package it depends on exist
for (const p of packages) {
  if (!p.present) continue;
  const missing = Object.keys({ ...p.manifest.dependencies, ...p.manifest.peerDependencies })
    .filter((d) => d.startsWith('@tim-broadcast/'))
    .map((d) => byDir.get(d.slice('@tim-broadcast/'.length)))
    .find((d) => d && !d.present);
  if (missing) Object.assign(p, { present: false, why: `needs ${missing.name}, which does not exist yet` });
}
const present = packages.filter((p) => p.present);
const rootManifest = readJson(join(root, 'package.json'));

const matrix = createMatrix({ verbose: args.verbose });
const cell = (name, fn) => {
  if (args.only && !name.includes(args.only)) return;
  matrix.add(name, fn);
};

console.log(`compat matrix: ${present.length}/${packages.length} packages present (${present.map((p) => p.dir).join(', ')}); temp folder ${work}`);
if (sabotage.size) console.log(`--break: sabotaging ${[...sabotage].map(([p, w]) => `${p} (${w})`).join(', ')} in the packed tarballs only`);

// ---- build and pack
const build = once(() => (args['skip-build'] ? 'skipped' : buildPackages(root, packages)));
if (!args['skip-build']) cell('build · turbo run build', () => build());

const pack = once(async (dir) => {
  const pkg = byDir.get(dir);
  if (!pkg.present) throw new Skip(pkg.why);
  await needs(build(), 'build');
  const tarball = await packPackage(pkg, join(work, 'tarballs'));
  const removed = sabotage.has(dir) ? await sabotageTarball(tarball, sabotage.get(dir), join(work, `sabotage-${dir}`)) : [];
  const extracted = await extractTarball(tarball, join(work, 'extracted', dir));
  return { tarball, extracted, manifest: readJson(join(extracted, 'package.json')), removed };
});

// ---- packaging checks, per package
const attw = attwRunner(root);
const secrets = collectSecrets(root);
for (const pkg of packages) {
  const name = (check) => `package · ${pkg.dir} · ${check}`;
  const packed = () => needs(pack(pkg.dir), name('pack'));
  cell(name('pack'), async () => {
    const { tarball, removed } = await pack(pkg.dir);
    return `${tarball.split('/').pop()}${removed.length ? `, sabotaged: removed ${removed.join(', ')}` : ''}`;
  });
  cell(name('publint --strict'), async () => publintCell(root, (await packed()).tarball));
  cell(name('attw node16 (cjs+esm)'), async () => attwCell(attw((await packed()).tarball), ['node16-cjs', 'node16-esm']));
  cell(name('attw bundler'), async () => attwCell(attw((await packed()).tarball), ['bundler']));
  cell(name('attw node10 (typesVersions for subpaths)'), async () => attwCell(attw((await packed()).tarball), ['node10']));
  cell(name('files'), async () => {
    const { extracted, manifest } = await packed();
    return filesCell(extracted, manifest);
  });
  cell(name('no secrets'), async () => secretsCell((await packed()).extracted, secrets, root));
  cell(name('manifest'), async () => {
    const { extracted, manifest } = await packed();
    return manifestCell(extracted, manifest, { engines: rootManifest.engines?.node });
  });
}
if (unknown.length) cell('package · (unknown)', () => Promise.reject(new Error(`public packages the matrix does not know: ${unknown.join(', ')} (add them to PUBLIC_PACKAGES)`)));

// ---- release flow
cell('release · changeset version bumps only the named packages and their dependents', () =>
  changesetVersionCell(root, join(work, 'release'), packages.map((p) => p.name)),
);
cell('release · pnpm -r publish --dry-run (writes nothing)', () => publishDryRunCell(root, packages.filter((p) => p.manifest)));

// ---- consumer projects
const runnable = (scenario) => {
  const missing = scenario.needs.map((d) => byDir.get(d)).find((p) => !p.present);
  return missing ? missing.why : undefined;
};
const install = once(async (id) => {
  const scenarios = SCENARIOS.filter((s) => s.project === id && !runnable(s));
  if (scenarios.length === 0) throw new Skip(`none of its packages exist yet`);
  const tarballs = [];
  for (const dir of projectPackages(PROJECTS[id], byDir).filter((d) => byDir.get(d).present)) {
    const { tarball, manifest } = await needs(pack(dir), `package · ${dir} · pack`);
    tarballs.push([manifest.name, tarball]);
  }
  const dir = join(work, 'projects', id);
  const note = await setupProject({ id, dir, tarballs, scenarios });
  return { dir, note };
});
for (const [id, project] of Object.entries(PROJECTS)) {
  cell(`install · ${project.label} (npm install of the tarballs)`, async () => (await install(id)).note);
}

const runtime = once((major) => nodeBinary(major));
for (const major of majors) {
  cell(`runtime · node ${major}`, async () => (await runtime(major)).version);
}
const startRedis = once(async () => {
  redis = await redisServer();
  return redis.url;
});
if (SCENARIOS.some((s) => s.redis && !runnable(s))) {
  cell('runtime · redis-server', async () => `${await startRedis()}${redis.owned ? ', started for this run' : ', from REDIS_URL'}`);
}

const compile = once(async (id) => {
  const { dir } = await needs(install(id), `install · ${PROJECTS[id].label}`);
  return compileTs(dir);
});
for (const kind of TS_KINDS) {
  for (const [id, project] of Object.entries(PROJECTS)) {
    cell(`${kind} · tsc (skipLibCheck false) · ${project.label}`, async () => {
      const { ok, errors, mode } = (await compile(id))[kind];
      if (!ok) throw new Error(`${errors.length} type error(s) (${mode})\n${errors.join('\n')}`);
      return mode;
    });
  }
}

for (const major of majors) {
  // node10 resolution is a compile-time matter: its output runs like ts-cjs, so once (on the first major) is enough
  for (const kind of KINDS.filter((k) => k !== 'ts-node10' || major === majors[0])) {
    for (const scenario of SCENARIOS) {
      cell(`${kind} · node ${major} · ${scenario.label}`, async () => {
        const why = runnable(scenario);
        if (why) throw new Skip(why);
        const { dir } = await needs(install(scenario.project), `install · ${PROJECTS[scenario.project].label}`);
        if (kind.startsWith('ts-')) await compile(scenario.project).catch(() => undefined);
        const { bin } = await needs(runtime(major), `runtime · node ${major}`);
        const env = { ...scenario.env, COMPAT_NODE_MAJOR: String(major) };
        if (scenario.redis) env.REDIS_URL = await needs(startRedis(), 'redis-server');
        await runConsumer({ node: bin, file: consumerFile(dir, kind, scenario), cwd: dir, env });
      });
    }
  }
}

// ---- the CLI from its tarball, through npx
const cliTarballs = once(async () => {
  const cli = byDir.get('cli');
  if (!cli.present) throw new Skip(cli.why);
  const tarballs = [];
  for (const dir of projectPackages({ packages: ['cli'] }, byDir)) tarballs.push((await needs(pack(dir), `package · ${dir} · pack`)).tarball);
  return { tarballs, version: (await pack('cli')).manifest.version, dir: join(work, 'npx') };
});
const npxReady = once(async () => {
  const ctx = await cliTarballs();
  return { ...ctx, note: await npxInstall(ctx) };
});
cell('install · cli (npx --package <tarballs> tim-broadcast)', async () => (await npxReady()).note);
for (const major of majors) {
  cell(`cli · node ${major} · npx tim-broadcast`, async () => {
    const { dir, tarballs } = await needs(npxReady(), 'install · cli');
    const { bin } = await needs(runtime(major), `runtime · node ${major}`);
    return npxCliCell({ dir, tarballs, node: bin, major });
  });
}

// ---- the READMEs' install lines, as written, with npm and with pnpm
for (const dir of ['nestjs', 'express']) {
  for (const manager of ['npm', 'pnpm']) {
    cell(`readme · ${dir} · ${manager} install as the README says, snippets compile and run`, async () => {
      if (!byDir.get(dir)?.present) throw new Skip(byDir.get(dir)?.why ?? `${dir} does not exist`);
      const tarballs = new Map();
      for (const p of present) tarballs.set(p.name, (await needs(pack(p.dir), `package · ${p.dir} · pack`)).tarball);
      return readmeCell({ manager, dir: join(work, 'readme', `${dir}-${manager}`), readmePath: join(root, 'packages', dir, 'README.md'), extras: README_EXTRAS[dir], tarballs });
    });
  }
}

const results = await matrix.finish();
const spent = timings();
/** Which package a failure points at: the package a packaging cell checks, else the first of ours the reason names. */
const blame = (r) => {
  const own = /^package · ([^ ]+) ·/.exec(r.name)?.[1];
  if (own) return own;
  const named = /@tim-broadcast\/([a-z-]+)/.exec(r.reason)?.[1];
  if (named) return named;
  return r.name.split(' · ').at(-1);
};
const report = summarize(results, resolve(args.json), { blame, durationMs: Date.now() - started, nodes: majors, timings: spent });
const parts = Object.entries(spent).map(([k, t]) => `${k} ${(t.ms / 1000).toFixed(0)} s/${t.count}`);
console.log(`compat matrix took ${((Date.now() - started) / 1000).toFixed(0)} s (time in commands: ${parts.join(', ')})`);
cleanup();
process.exitCode = report.numFailedTests === 0 ? 0 : 1;
