import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { APP, emulator, REDIS_URL, uniqueKey } from './helpers';

// Issue 13's CI test: 4 replicas (separate processes) call client.broadcast() directly — no queue — sharing one
// RedisStore limiter at 1 call/s, while every core is kept busy by busy-loop processes, against the emulator
// (which refuses any call less than 1,000 ms after the last accepted one). Every arrival is recorded by onCall.
const SENDER = fileURLToPath(new URL('./fixtures/sender.mjs', import.meta.url));
const DIST = ['../dist/index.mjs', '../../core/dist/index.mjs'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
const REPLICAS = 4;
const CALLS = 5;

interface SenderReport {
  sent: number;
  failed: string[];
  throttled: number;
}

/** One busy loop per core, until killed. */
function busyCores(): ChildProcess[] {
  return cpus().map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

describe('replicas calling the client directly on busy cores', () => {
  it(`${REPLICAS} processes × ${CALLS} calls at 1/s: zero 10023, every accepted arrival ≥ 1,000 ms after the previous one`, async () => {
    for (const file of DIST) if (!existsSync(file)) throw new Error(`${file} is missing: build first (pnpm build)`);
    const arrivals: { at: number; code?: number }[] = [];
    const emu = await emulator({ ratePerSecond: 1, onCall: (e) => arrivals.push({ at: e.at, code: e.code }) });
    const busy = busyCores();
    const children: ChildProcess[] = [];
    try {
      const key = uniqueKey('replicas');
      for (let i = 0; i < REPLICAS; i++) children.push(fork(SENDER, { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
      const reports = children.map(
        (child) =>
          new Promise<SenderReport>((resolve, reject) => {
            child.on('message', (m) => typeof m === 'object' && resolve(m as SenderReport));
            child.once('exit', (code) => reject(new Error(`sender exited with ${code} before reporting`)));
          }),
      );
      const ready = children.map((child) => new Promise((resolve) => child.once('message', resolve)));
      children.forEach((child, i) => child.send({ ...APP, url: emu.url, redisUrl: REDIS_URL, key, ratePerSecond: 1, count: CALLS, tag: `r${i}`, direct: true }));
      await Promise.all(ready);
      for (const child of children) child.send('go');
      const results = await Promise.all(reports);

      for (const r of results) expect(r).toEqual({ sent: CALLS, failed: [], throttled: 0 });
      expect(arrivals.filter((a) => a.code === 10023)).toEqual([]);
      const accepted = arrivals.filter((a) => a.code === 0).map((a) => a.at);
      expect(accepted).toHaveLength(REPLICAS * CALLS);
      const gaps = accepted.slice(1).map((t, i) => t - accepted[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_000);
    } finally {
      for (const p of busy) p.kill('SIGKILL');
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await emu.close();
    }
  }, 180_000);
});
