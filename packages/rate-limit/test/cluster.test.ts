import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createBroadcastClient, text } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createBroadcastQueue, createRateLimiter } from '@tim-broadcast/rate-limit';
import { APP, emulator, gaps, REDIS_URL, uniqueKey } from './helpers';

// The acceptance test of the issue: 3 × 20 broadcasts at 1 call/s, shared by 3 separate Node processes
// through Redis, and by 3 queues in one process through memory. Each takes ~62 s; they run side by side.
const SENDER = fileURLToPath(new URL('./fixtures/sender.mjs', import.meta.url));
const DIST = ['../dist/index.mjs', '../../core/dist/index.mjs'].map((p) => fileURLToPath(new URL(p, import.meta.url)));

interface SenderReport {
  sent: number;
  failed: string[];
  throttled: number;
}

function expectWithinLimit(emu: Emulator, tags: string[]) {
  expect(emu.stats.rejected).toEqual({}); // no 10023, nor anything else
  expect(emu.stats.accepted).toBe(60);
  const delivered = emu.deliveries.map((d) => (d.body.MsgBody[0]!.MsgContent as { Text: string }).Text);
  for (const tag of tags) {
    expect(delivered.filter((t) => t.startsWith(`${tag}-`))).toEqual(Array.from({ length: 20 }, (_, i) => `${tag}-${i}`));
  }
  expect(Math.min(...gaps(emu))).toBeGreaterThanOrEqual(1_000);
}

describe.concurrent('60 broadcasts at 1 call/s', () => {
  it('3 processes sharing one RedisStore: zero 10023, all delivered, accepted calls ≥ 1 s apart', async () => {
    for (const file of DIST) if (!existsSync(file)) throw new Error(`${file} is missing: build first (pnpm exec turbo run build --filter=@tim-broadcast/rate-limit...)`);
    const emu = await emulator({ ratePerSecond: 1 });
    try {
      const key = uniqueKey('cluster');
      const tags = ['p0', 'p1', 'p2'];
      const children = tags.map(() => fork(SENDER, { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
      const reports = children.map(
        (child) =>
          new Promise<SenderReport>((resolve, reject) => {
            child.on('message', (m) => typeof m === 'object' && resolve(m as SenderReport));
            child.once('exit', (code) => reject(new Error(`sender exited with ${code} before reporting`)));
          }),
      );
      const ready = children.map((child) => new Promise((resolve) => child.once('message', resolve)));
      children.forEach((child, i) =>
        child.send({ ...APP, url: emu.url, redisUrl: REDIS_URL, key, ratePerSecond: 1, count: 20, tag: tags[i] }),
      );
      await Promise.all(ready);
      for (const child of children) child.send('go');
      const results = await Promise.all(reports);

      for (const r of results) expect(r).toMatchObject({ sent: 20, failed: [], throttled: 0 });
      expectWithinLimit(emu, tags);
    } finally {
      await emu.close();
    }
  }, 120_000);

  it('3 queues in one process sharing one MemoryStore limiter: the same', async () => {
    const emu = await emulator({ ratePerSecond: 1 });
    const limiter = createRateLimiter({ ratePerSecond: 1 });
    const tags = ['q0', 'q1', 'q2'];
    const clients = tags.map(() =>
      createBroadcastClient({ sdkAppId: APP.sdkAppId, secretKey: APP.secretKey, identifier: APP.admin, baseUrl: emu.url, limiter }),
    );
    try {
      await fetch(`${emu.url}/warm-up`, { method: 'POST', body: '{}' }).then((res) => res.arrayBuffer());
      const queues = clients.map((client) => createBroadcastQueue({ client }));
      const sends = queues.flatMap((queue, q) => Array.from({ length: 20 }, (_, i) => queue.send({ MsgBody: [text(`${tags[q]}-${i}`)] })));
      const results = await Promise.all(sends);
      expect(results.every((r) => r.attempts === 1)).toBe(true);
      expectWithinLimit(emu, tags);
    } finally {
      await limiter.close();
      await Promise.all(clients.map((c) => c.close()));
      await emu.close();
    }
  }, 120_000);
});
