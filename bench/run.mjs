// Runs every bench/*.bench.mjs (or those named on the command line), prints one table and writes bench/results.json.
// Each benchmark measures ours and its baseline in the same process run.
import { readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((name) => f.includes(name)))
  .sort();

const rows = [];
for (const file of files) {
  const started = Date.now();
  process.stderr.write(`bench: ${file} ...`);
  try {
    const { default: run } = await import(new URL(file, import.meta.url));
    for (const row of await run()) rows.push({ bench: file.replace('.bench.mjs', ''), ...row });
    process.stderr.write(` ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    process.stderr.write(' crashed\n');
    console.error(err);
    rows.push({ bench: file.replace('.bench.mjs', ''), figure: 'crashed', ours: null, baseline: null, unit: '', target: '', pass: false, note: String(err) });
  }
}

const fmt = (n) => (n === null || n === undefined ? '—' : Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 3 }));
// `before`: the same figure for the code a change replaced, measured in this run (see rate-limit-limiter.bench.mjs)
const withBefore = rows.some((r) => r.before !== undefined);
const table = rows.map((r) => ({
  figure: `${r.bench}: ${r.figure}`,
  ours: `${fmt(r.ours)} ${r.unit}`.trim(),
  ...(withBefore ? { before: r.before === null || r.before === undefined ? '—' : `${fmt(r.before)} ${r.unit}`.trim() } : {}),
  baseline: r.baseline === null || r.baseline === undefined ? '—' : `${fmt(r.baseline)} ${r.unit}`.trim(),
  ratio: r.ratio !== undefined ? fmt(r.ratio) : r.ours && r.baseline ? fmt(r.ours / r.baseline) : '—',
  target: r.target,
  result: r.pass ? 'pass' : 'FAIL',
}));
const cols = Object.keys(table[0] ?? { figure: '' });
const width = Object.fromEntries(cols.map((c) => [c, Math.max(c.length, ...table.map((r) => String(r[c]).length))]));
const line = (r) => cols.map((c) => String(r[c]).padEnd(width[c])).join(' │ ');
console.log(line(Object.fromEntries(cols.map((c) => [c, c]))));
console.log(cols.map((c) => '─'.repeat(width[c])).join('─┼─'));
for (const r of table) console.log(line(r));
for (const r of rows.filter((r) => r.note)) console.log(`note (${r.bench}: ${r.figure}): ${r.note}`);

const out = { node: process.version, cpus: (await import('node:os')).cpus().length, at: new Date().toISOString(), rows };
writeFileSync(new URL('results.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log(`\n${rows.filter((r) => r.pass).length}/${rows.length} targets met; wrote bench/results.json`);
process.exitCode = rows.every((r) => r.pass) ? 0 : 1;
