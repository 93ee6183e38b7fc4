// The README cells: a throwaway project installs exactly what a package's README tells users to install (its
// `npm install` lines), with npm or with pnpm (whose strict node_modules refuses imports of packages that are not
// direct dependencies), then type-checks every import the README's TypeScript snippets make from our packages and
// runs the snippet the README marks with `<!-- compat:run -->` against the emulator.
import { builtinModules } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv } from './consumers.mjs';
import { expectOk, run, tail } from './proc.mjs';

/** Third-party packages the snippets import besides what the install lines name (as a Nest or Express app has them). */
export const README_EXTRAS = {
  nestjs: { '@nestjs/config': '^4.0.0', '@nestjs/terminus': '^11.0.0', '@nestjs/testing': '^11.1.0', ioredis: '^5.8.0' },
  express: { '@types/express': '^5.0.3', ioredis: '^5.8.0' },
};
const TOOLING = { typescript: '~5.9.3', '@types/node': '^20.19.0' };

const fences = (readme, lang) => [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
const packageOf = (spec) => {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  return at > 0 ? spec.slice(0, at) : spec;
};
const isBuiltin = (s) => s.startsWith('node:') || builtinModules.includes(s.split('/')[0]);
const packageName = (s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]);

/** Every package spec of the README's `npm install` / `npm i` lines (comments and flags dropped). */
export function installSpecs(readme) {
  const specs = [];
  for (const block of fences(readme, 'sh')) {
    for (const raw of block.split('\n')) {
      const line = raw.replace(/#.*$/, '').trim();
      const match = /^npm (?:install|i|add)\s+(.*)$/.exec(line);
      if (match) specs.push(...match[1].split(/\s+/).filter((w) => w && !w.startsWith('-')));
    }
  }
  return specs;
}

/** The import statements of the README's TypeScript snippets: `{ module, names: [{ name, type }] }`. */
export function snippetImports(readme) {
  const out = [];
  for (const block of fences(readme, 'ts')) {
    for (const m of block.matchAll(/^import\s+(type\s+)?([^;'"]*?)\s+from\s+'([^']+)';/gm)) {
      const [, allType, clause, module] = m;
      const named = /\{([\s\S]*)\}/.exec(clause)?.[1] ?? '';
      const names = named
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .map((n) => ({ name: n.replace(/^type\s+/, '').split(/\s+as\s+/)[0].trim(), type: Boolean(allType) || n.startsWith('type ') }));
      out.push({ module, names, bare: !named });
    }
    for (const m of block.matchAll(/^import\s+'([^']+)';/gm)) out.push({ module: m[1], names: [], bare: true });
  }
  return out;
}

/** The TypeScript block right after `<!-- compat:run -->`: a complete program against the emulator. */
export function runnableSnippet(readme) {
  return /<!-- compat:run -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
}

/**
 * One README cell. `tarballs` maps each of our package names to its packed tarball; our packages are installed from
 * them (as the install lines name them, or as dependencies of those, through overrides), the rest from the registry.
 */
export async function readmeCell({ manager, dir, readmePath, extras, tarballs }) {
  const readme = readFileSync(readmePath, 'utf8');
  const specs = installSpecs(readme);
  if (specs.length === 0) throw new Error(`${readmePath} has no npm install line`);
  const snippet = runnableSnippet(readme);
  if (!snippet) throw new Error(`${readmePath} marks no snippet with <!-- compat:run -->`);
  const installed = new Set(specs.map(packageOf));

  const problems = [];
  const imports = snippetImports(readme);
  for (const { module } of imports) {
    const name = packageName(module);
    if (isBuiltin(module) || installed.has(name) || name in extras) continue;
    problems.push(
      name.startsWith('@tim-broadcast/')
        ? `a snippet imports ${module}, which no install line of the README installs`
        : `a snippet imports ${module}, which neither the install lines nor README_EXTRAS name`,
    );
  }
  if (problems.length) throw new Error(problems.join('\n'));

  const source = (spec) => {
    const name = packageOf(spec);
    return tarballs.has(name) ? [name, `file:${tarballs.get(name)}`] : [name, spec.slice(name.length + 1) || 'latest'];
  };
  const dependencies = { ...TOOLING, ...extras, ...Object.fromEntries(specs.map(source)) };
  const overrides = Object.fromEntries([...tarballs].map(([name, tarball]) => [name, `file:${tarball}`]));
  const manifest = { name: `compat-readme-${manager}`, private: true, type: 'module', dependencies };
  if (manager === 'pnpm') manifest.pnpm = { overrides };
  else manifest.overrides = Object.fromEntries(Object.entries(overrides).filter(([name]) => !(name in dependencies)));
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  // every name the snippets import from our packages, aliased so that two snippets' names cannot collide
  const ours = imports.filter(({ module }) => module.startsWith('@tim-broadcast/'));
  const lines = ours.map(({ module, names }, i) => {
    const list = names.map(({ name, type }) => `${type ? 'type ' : ''}${name} as i${i}_${name}`).join(', ');
    return `import { ${list} } from '${module}';`;
  });
  const values = ours.flatMap(({ names }, i) => names.filter((n) => !n.type).map((n) => `i${i}_${n.name}`));
  lines.push(`for (const [name, value] of Object.entries({ ${values.join(', ')} })) if (value === undefined) throw new Error(name + ' is undefined');`);
  lines.push(`console.log('imports: ${values.length} values, ${ours.reduce((n, o) => n + o.names.length, 0) - values.length} types');`);
  writeFileSync(join(dir, 'src/imports.mts'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'src/snippet.mts'), snippet);
  const compilerOptions = {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'ES2022',
    lib: ['ES2023'],
    types: ['node'],
    strict: true,
    skipLibCheck: true,
    verbatimModuleSyntax: true,
    experimentalDecorators: true,
    rootDir: 'src',
    outDir: 'dist',
  };
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify({ compilerOptions, include: ['src'] }, null, 2)}\n`);

  const env = cleanEnv();
  const install =
    manager === 'pnpm'
      ? await run('pnpm', ['install', '--no-frozen-lockfile', '--reporter=append-only'], { cwd: dir, env, timeoutMs: 400_000, kind: 'pnpm install' })
      : await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env, timeoutMs: 400_000, kind: 'npm install' });
  expectOk(install, `${manager} install`);
  const tsc = await run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', '.', '--pretty', 'false'], { cwd: dir, env, timeoutMs: 240_000, kind: 'tsc' });
  if (tsc.code !== 0) throw new Error(`the README's snippets do not compile after ${manager} install of ${specs.join(' ')}\n${tail(tsc, 12)}`);
  const notes = [];
  for (const file of ['imports.mjs', 'snippet.mjs']) {
    const result = await run(process.execPath, [join('dist', file)], { cwd: dir, env, timeoutMs: 60_000, kind: 'consumers' });
    if (result.code !== 0) throw new Error(`${file} failed after ${manager} install of ${specs.join(' ')}\n${tail(result, 12)}`);
    notes.push(result.stdout.trim().split('\n').at(-1));
  }
  return `${manager} install ${specs.join(' ')}; ${notes.join('; ')}`;
}
