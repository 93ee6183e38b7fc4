// Child processes for the matrix: a bounded pool (the machine has 2 cores), timeouts that kill the whole
// process group, and captured output for the failure reasons.
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';

const live = new Set();

/** The cell a command runs for: its `busyMs` adds up the time of its own commands (not time spent waiting). */
export const cellContext = new AsyncLocalStorage();
const spent = new Map();

/** Time spent in child processes, by kind: `{ kind: { count, ms } }`, to see where the budget goes. */
export function timings() {
  return Object.fromEntries([...spent].sort((a, b) => b[1].ms - a[1].ms));
}

/** Limits how many child processes run at once; waiting callers are served in order. */
export function createPool(size) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= size || queue.length === 0) return;
    active += 1;
    queue.shift()();
  };
  return async function withSlot(fn) {
    await new Promise((resolve) => {
      queue.push(resolve);
      next();
    });
    try {
      return await fn();
    } finally {
      active -= 1;
      next();
    }
  };
}

let pool = createPool(3);
export function setConcurrency(n) {
  pool = createPool(n);
}

/**
 * Runs a command to completion and resolves with its exit status and output (never rejects on a non-zero exit).
 * `timeoutMs` kills the process group; `slot: false` skips the pool (for cheap commands).
 */
export function run(cmd, args, { cwd, env, timeoutMs = 120_000, slot = true, kind = 'other' } = {}) {
  const go = () =>
    new Promise((resolve) => {
      const started = Date.now();
      let child;
      try {
        child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      } catch (error) {
        resolve({ code: null, signal: null, stdout: '', stderr: String(error), timedOut: false, ms: 0 });
        return;
      }
      live.add(child);
      const out = [];
      const err = [];
      child.stdout.on('data', (d) => out.push(d));
      child.stderr.on('data', (d) => err.push(d));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child);
      }, timeoutMs);
      const finish = (code, signal, extra = '') => {
        clearTimeout(timer);
        live.delete(child);
        const ctx = cellContext.getStore();
        if (ctx) ctx.busyMs += Date.now() - started;
        const t = spent.get(kind) ?? { count: 0, ms: 0 };
        spent.set(kind, { count: t.count + 1, ms: t.ms + Date.now() - started });
        resolve({
          code,
          signal,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8') + extra,
          timedOut,
          ms: Date.now() - started,
        });
      };
      child.on('error', (error) => finish(null, null, String(error)));
      child.on('close', (code, signal) => finish(code, signal));
    });
  return slot ? pool(go) : go();
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Kills every child still running (on exit or interrupt). */
export function killAll() {
  for (const child of live) killGroup(child);
}

/** The last `n` non-empty lines of a command's output, for a one-line-per-cell report. */
export function tail(result, n = 12) {
  const text = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  const lines = text.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  return lines.slice(-n).join('\n');
}

/** Throws a cell failure when a command did not exit 0. */
export function expectOk(result, what) {
  if (result.timedOut) throw new Error(`${what} timed out after ${Math.round(result.ms / 1000)} s\n${tail(result)}`);
  if (result.code !== 0) throw new Error(`${what} exited with ${result.code ?? result.signal}\n${tail(result)}`);
  return result;
}
