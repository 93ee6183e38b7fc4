// The matrix's cells: each is registered up front (so the output order is fixed), runs as soon as what it
// needs is ready, and is printed in registration order as soon as it and every cell before it have settled.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cellContext } from './proc.mjs';

/** Thrown by a cell that cannot run here (e.g. its package does not exist yet); counted neither way. */
export class Skip extends Error {}

export function createMatrix({ verbose = false } = {}) {
  const cells = [];
  const color = process.stdout.isTTY && !process.env.NO_COLOR;
  const paint = (code, s) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const label = { passed: paint(32, 'PASS'), failed: paint(31, 'FAIL'), skipped: paint(33, 'SKIP') };

  function add(name, fn) {
    const started = Date.now();
    const ctx = { busyMs: 0 };
    const result = cellContext
      .run(ctx, () => Promise.resolve().then(fn))
      .then(
        (note) => ({ name, status: 'passed', note: typeof note === 'string' ? note : undefined }),
        (error) => (error instanceof Skip ? { name, status: 'skipped', reason: error.message } : { name, status: 'failed', reason: reasonOf(error) }),
      )
      .then((r) => ({ ...r, durationMs: Date.now() - started, busyMs: ctx.busyMs }));
    cells.push(result);
    return result;
  }

  function reasonOf(error) {
    const text = error instanceof Error ? error.message : String(error);
    return verbose ? text : text.split('\n').slice(0, 14).join('\n');
  }

  function print(r) {
    // the time of the cell's own commands; the wall time includes waiting for a free slot and for prerequisites
    const secs = r.busyMs > 0 ? `${(r.busyMs / 1000).toFixed(1)}s` : '';
    let line = `${label[r.status]}  ${r.name}`;
    if (r.status === 'passed' && r.note) line += `  ${paint(2, `(${r.note})`)}`;
    if (r.status === 'skipped') line += `  (${r.reason})`;
    if (r.status === 'failed') {
      const [first, ...rest] = r.reason.split('\n');
      line += `  (${first})`;
      if (rest.length) line += `\n${rest.map((l) => `      ${l}`).join('\n')}`;
    }
    console.log(`${line}${r.status === 'skipped' || !secs ? '' : paint(2, `  ${secs}`)}`);
  }

  /** Prints every cell in order, including those registered while printing; resolves with all results. */
  async function finish() {
    const results = [];
    for (let i = 0; i < cells.length; i++) {
      const r = await cells[i];
      print(r);
      results.push(r);
    }
    return results;
  }

  return { add, finish };
}

export function summarize(results, jsonPath, { blame, ...extra } = {}) {
  const count = (s) => results.filter((r) => r.status === s).length;
  const failed = results.filter((r) => r.status === 'failed');
  const report = {
    numPassedTests: count('passed'),
    numFailedTests: count('failed'),
    numSkippedTests: count('skipped'),
    ...extra,
    cells: results.map(({ name, status, durationMs, busyMs, reason, note }) => ({ name, status, durationMs, busyMs, ...(reason ? { reason } : {}), ...(note ? { note } : {}) })),
  };
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  console.log('');
  if (failed.length) {
    console.log(`Failed cells (${failed.length}):`);
    for (const r of failed.slice(0, 40)) console.log(`  - ${r.name}: ${r.reason.split('\n')[0]}`);
    if (failed.length > 40) console.log(`  … and ${failed.length - 40} more (see ${jsonPath})`);
    if (blame) {
      const by = new Map();
      for (const r of failed) by.set(blame(r), (by.get(blame(r)) ?? 0) + 1);
      console.log(`Failing packages: ${[...by].map(([p, n]) => `${p} (${n} cell${n > 1 ? 's' : ''})`).join(', ')}`);
    }
  }
  console.log(`compat matrix: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numSkippedTests} skipped (${jsonPath})`);
  return report;
}
