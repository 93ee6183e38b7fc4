// Shared helpers for the benchmarks: a minimal API server in a child process, interleaved timing, concurrency.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Starts bench/minimal-server.mjs in its own process (its own core) and resolves with its URL. */
export function startMinimalServer() {
  const child = fork(fileURLToPath(new URL('./minimal-server.mjs', import.meta.url)), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (msg) => resolve({ url: msg.url, close: () => new Promise((r) => { child.once('exit', r); child.kill(); }) }));
  });
}

/** Runs `task(i)` for i in 0..n-1 with at most `concurrency` in flight. */
export async function runConcurrent(n, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Runs each variant `rounds` times, interleaved (A B C A B C ...), and returns the median duration (ms) of each. */
export async function interleaved(variants, rounds = 5) {
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      const start = process.hrtime.bigint();
      await fn();
      times[name].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const round = (n, digits = 2) => Number(n.toFixed(digits));
