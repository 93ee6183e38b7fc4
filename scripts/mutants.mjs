#!/usr/bin/env node
// Plants known bugs ("mutants") in a scratch copy of the repository and checks that the test suite catches each one.
//
//   node scripts/mutants.mjs                 # every mutant
//   node scripts/mutants.mjs --only 12,000   # the mutants whose name contains the text
//   node scripts/mutants.mjs --list          # names only
//   node scripts/mutants.mjs --keep          # keep the scratch copy (its path is printed)
//   node scripts/mutants.mjs --verbose       # every test that caught each mutant, not only the first
//
// For each mutant: apply its edits to the scratch copy, run its test files with vitest, restore the files, and print
// "caught by <file> > <test>" or "MISSED". Exit code 1 when any mutant was missed (or could not be applied, or the
// unmutated tests fail). The working tree is never touched. No build is needed: tests run against the sources.
//
// Adding a mutant is one entry in MUTANTS:
//   {
//     name: 'what the bug is',
//     edits: [{ file: 'packages/x/src/y.ts', from: 'exact text (must occur exactly once)', to: 'the bug' }],
//     tests: ['packages/x/test/z.test.ts'],   // the files that must catch it
//     env: { REDIS_URL: '...' },              // optional extra environment for the test run
//   }
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MUTANTS = [
  {
    name: "client's own 12,000-byte check loosened by 4 bytes",
    edits: [
      {
        file: 'packages/core/src/schemas/request.ts',
        from: "if (bytes > MAX_MESSAGE_BYTES) throw new ValidationError('invalid broadcast request'",
        to: "if (bytes > MAX_MESSAGE_BYTES + 4) throw new ValidationError('invalid broadcast request'",
      },
    ],
    tests: ['packages/core/src/client-size.test.ts', 'packages/core/src/schemas/request.test.ts'],
  },
  {
    name: 'MAX_MESSAGE_BYTES raised to 12,004',
    edits: [{ file: 'packages/core/src/size.ts', from: 'export const MAX_MESSAGE_BYTES = 12_000;', to: 'export const MAX_MESSAGE_BYTES = 12_004;' }],
    tests: ['packages/core/src/client-size.test.ts', 'packages/core/src/schemas/request.test.ts'],
  },
  {
    name: 'relay nesting unbounded',
    edits: [{ file: 'packages/core/src/schemas/depth.ts', from: '++relays > MAX_RELAY_DEPTH', to: '++relays > Infinity' }],
    tests: ['packages/core/src/schemas/request.test.ts'],
  },
  {
    name: 'ApiError keeps an echoed usersig in ErrorInfo',
    edits: [{ file: 'packages/core/src/errors/classes.ts', from: "info = redactUserSig(typeof info === 'string' ? info : '');", to: "info = typeof info === 'string' ? info : '';" }],
    tests: ['packages/core/src/errors/codes.test.ts', 'packages/core/src/client-upstream.test.ts'],
  },
  {
    name: '70050 classed throttled again (retried inside the lockout)',
    edits: [{ file: 'packages/core/src/errors/codes.ts', from: "  70050: [\n    'auth',", to: "  70050: [\n    'throttled'," }],
    tests: ['packages/core/src/client-upstream.test.ts'],
  },
  {
    name: 'TLS.sig decoded leniently',
    edits: [{ file: 'packages/core/src/usersig/verify.ts', from: 'const given = decodeStrictBase64(mac);', to: "const given = Buffer.from(mac, 'base64');" }],
    tests: ['packages/core/src/usersig/usersig.test.ts'],
  },
  {
    name: 'verifyUserSig without the ticket length cap',
    edits: [{ file: 'packages/core/src/usersig/verify.ts', from: "if (sig.length > MAX_USERSIG_LENGTH) return 'too-large';", to: '' }],
    tests: ['packages/core/src/usersig/usersig.test.ts'],
  },
  {
    name: 'a password in baseUrl accepted (only the user name checked)',
    edits: [{ file: 'packages/core/src/regions.ts', from: 'if (url.username || url.password || /^[a-z][a-z0-9+.-]*:\\/\\/[^/]*@/i.test(value)) {', to: 'if (url.username) {' }],
    tests: ['packages/core/src/regions.test.ts', 'packages/core/src/client-options.test.ts'],
  },
  {
    name: 'https primary allowed to fail over to an http backup',
    edits: [{ file: 'packages/core/src/regions.ts', from: "if (out.primary.startsWith('https:') && out.backup.startsWith('http:')) {", to: 'if (false) {' }],
    tests: ['packages/core/src/regions.test.ts', 'packages/core/src/client-options.test.ts'],
  },
  {
    name: 'per-call signal not checked',
    edits: [{ file: 'packages/core/src/client.ts', from: '    signalIssue(call.signal),\n', to: '' }],
    tests: ['packages/core/src/client-options.test.ts'],
  },
  {
    name: "undici transport back on undici's coarse timers",
    edits: [
      {
        file: 'packages/transport/src/undici.ts',
        from: 'headersTimeout: 0, bodyTimeout: 0 }',
        to: 'headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs }',
      },
      {
        file: 'packages/transport/src/undici.ts',
        from: 'if (req.timeoutMs !== undefined) this.#timer = setTimeout(() => this.#onTimeout(), req.timeoutMs);',
        to: '',
      },
    ],
    tests: ['packages/transport/test/transport.test.ts'],
  },
  {
    name: 'Nest shutdown stops awaiting the drain (void instead of await)',
    edits: [{ file: 'packages/nestjs/src/broadcast.service.ts', from: '    await this.broadcaster.close();', to: '    void this.broadcaster.close();' }],
    tests: ['packages/nestjs/test/shutdown.test.ts'],
  },
  {
    name: "the coalescing queue stops telling a call's batchSize (the dashboard's merged count)",
    edits: [{ file: 'packages/rate-limit/src/queue.ts', from: '      batchSize: batch.length,\n', to: '' }],
    tests: ['packages/rate-limit/test/batch-size.test.ts'],
  },
];

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const keep = args.includes('--keep');
const verbose = args.includes('--verbose');
const selected = MUTANTS.filter((m) => only === undefined || m.name.includes(only));

if (args.includes('--list')) {
  for (const m of MUTANTS) console.log(m.name);
  process.exit(0);
}
if (selected.length === 0) {
  console.error(`no mutant matches ${JSON.stringify(only)}; --list shows them`);
  process.exit(1);
}

const SKIP = new Set(['.git', 'node_modules', 'dist', '.turbo', '.tmp', 'coverage']);
const CACHES = new Set(['.vite', '.vite-temp', '.cache']);

/** Where the repository has node_modules folders (outside node_modules itself). */
function nodeModulesDirs(dir, depth = 0) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === '.git') continue;
    const path = join(dir, entry.name);
    if (entry.name === 'node_modules') found.push(path);
    else if (depth < 3 && !SKIP.has(entry.name)) found.push(...nodeModulesDirs(path, depth + 1));
  }
  return found;
}

/**
 * Mirrors a node_modules folder without copying it: relative symlinks (pnpm's workspace links and package links)
 * are recreated as they are, so they resolve inside the copy; everything else links to the original. Caches are
 * left out, so the runs never write into the working tree's node_modules.
 */
function mirrorNodeModules(from, to) {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (CACHES.has(name)) continue;
    const source = join(from, name);
    const target = join(to, name);
    const stat = lstatSync(source);
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else if (stat.isDirectory() && name.startsWith('@')) mirrorNodeModules(source, target);
    else symlinkSync(source, target);
  }
}

function makeScratch() {
  const scratch = mkdtempSync(join(tmpdir(), 'tim-broadcast-mutants-'));
  cpSync(root, scratch, { recursive: true, verbatimSymlinks: true, filter: (src) => !SKIP.has(src.split('/').pop()) || src === root });
  for (const dir of nodeModulesDirs(root)) mirrorNodeModules(dir, join(scratch, relative(root, dir)));
  return scratch;
}

/** Runs vitest on `files` in the scratch copy; returns the failed tests as "file > name", or null if vitest crashed. */
function runTests(scratch, files, env = {}) {
  const vitest = join(dirname(createRequire(join(scratch, 'package.json')).resolve('vitest/package.json')), 'vitest.mjs');
  const report = join(scratch, '.tmp', `mutants-${process.hrtime.bigint()}.json`);
  mkdirSync(dirname(report), { recursive: true });
  const run = spawnSync(process.execPath, [vitest, 'run', '--reporter=json', `--outputFile=${report}`, ...files], {
    cwd: scratch,
    env: { ...process.env, ...env, CI: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
    timeout: 15 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!existsSync(report)) return { failed: null, output: `${run.stdout}\n${run.stderr}`.slice(-3000) };
  const json = JSON.parse(readFileSync(report, 'utf8'));
  const failed = [];
  for (const file of json.testResults ?? []) {
    const name = relative(scratch, file.name);
    const failures = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failures) failed.push(`${name} > ${a.fullName ?? a.title}`);
    if (failures.length === 0 && file.status === 'failed') failed.push(`${name} (the file failed to load: ${String(file.message).split('\n')[0]})`);
  }
  return { failed, output: '' };
}

const scratch = makeScratch();
console.log(`scratch copy: ${scratch}`);
let bad = 0;
try {
  // the unmutated code must pass the very tests that judge the mutants
  const allTests = [...new Set(selected.flatMap((m) => m.tests))];
  const baseline = runTests(scratch, allTests, Object.assign({}, ...selected.map((m) => m.env ?? {})));
  if (baseline.failed === null || baseline.failed.length > 0) {
    console.error(`BASELINE FAILED (fix the tests first):\n${baseline.failed?.join('\n') ?? baseline.output}`);
    process.exitCode = 1;
  } else {
    console.log(`baseline: ${allTests.length} test files pass unmutated\n`);
    for (const mutant of selected) {
      const originals = new Map();
      let applied = true;
      for (const edit of mutant.edits) {
        const path = join(scratch, edit.file);
        const text = originals.get(path) ?? readFileSync(path, 'utf8');
        if (!originals.has(path)) originals.set(path, text);
        const current = readFileSync(path, 'utf8');
        const count = current.split(edit.from).length - 1;
        if (count !== 1) {
          console.log(`NOT APPLIED  ${mutant.name}: ${edit.file} contains the text ${count} times (expected once)`);
          applied = false;
          break;
        }
        writeFileSync(path, current.replace(edit.from, () => edit.to));
      }
      if (applied) {
        const { failed, output } = runTests(scratch, mutant.tests, mutant.env);
        if (failed === null) {
          console.log(`CRASHED      ${mutant.name}: vitest wrote no report\n${output}`);
          bad++;
        } else if (failed.length === 0) {
          console.log(`MISSED       ${mutant.name} (ran ${mutant.tests.join(', ')})`);
          bad++;
        } else {
          const shown = verbose ? failed : failed.slice(0, 1);
          const more = failed.length > shown.length ? ` (+${failed.length - shown.length} more)` : '';
          console.log(`caught       ${mutant.name}\n${shown.map((t) => `             by ${t}`).join('\n')}${more}`);
        }
      } else {
        bad++;
      }
      for (const [path, text] of originals) writeFileSync(path, text);
    }
    console.log(`\n${selected.length - bad} of ${selected.length} mutants caught`);
    if (bad) process.exitCode = 1;
  }
} finally {
  if (keep) console.log(`kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
