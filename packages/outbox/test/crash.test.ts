import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { custom, text } from '@tim-broadcast/core';
import type { Emulator, EmulatorOptions } from '@tim-broadcast/emulator';
import { createOutbox, type Outbox, type OutboxStatus } from '@tim-broadcast/outbox';
import { createRateLimiter, RedisStore } from '@tim-broadcast/rate-limit';
import { APP, clientFor, connect, emulator, REDIS_URL, repeats, uniqueName, until, type Connection } from './helpers';

// Real processes: each deliverer runs the built package (dist) in its own Node process, as a replica would.
const DELIVERER = fileURLToPath(new URL('./fixtures/deliverer.mjs', import.meta.url));
const DIST = ['../dist/index.mjs', '../../rate-limit/dist/index.mjs', '../../core/dist/index.mjs'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
const RATE = 5;
const LEASE_MS = 1_500;

interface Message {
  type: string;
  ids?: string[];
  batchId?: string;
}

interface Child {
  process: ChildProcess;
  messages: Message[];
  exited: Promise<unknown>;
}

let conn: Connection;
const children: Child[] = [];
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  for (const file of DIST) if (!existsSync(file)) throw new Error(`${file} is missing: build first (pnpm exec turbo run build --filter=@tim-broadcast/outbox...)`);
  conn = await connect.ioredis();
});
afterAll(() => conn.close());
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.send('close');
      await Promise.race([child.exited, new Promise((r) => setTimeout(r, 8_000))]);
      child.process.kill('SIGKILL');
    }
  }
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startEmulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  const emu = await emulator({ ratePerSecond: RATE, ...options });
  cleanup.push(() => emu.close());
  return emu;
}

/** Starts a deliverer process; resolves once it delivers. */
async function deliverer(job: { url: string; name: string; key: string; stallOnSending?: number }): Promise<Child> {
  const proc = fork(DELIVERER, { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const child: Child = { process: proc, messages: [], exited: new Promise((resolve) => proc.once('exit', resolve)) };
  children.push(child);
  proc.on('message', (m) => child.messages.push(m as Message));
  proc.send({ ...APP, ...job, redisUrl: REDIS_URL, ratePerSecond: RATE, leaseMs: LEASE_MS, coalesce: true });
  await until(() => child.messages.some((m) => m.type === 'ready'), 20_000, 'a deliverer process to start');
  return child;
}

/** An outbox in this process that only enqueues and reads (a web tier). */
function producer(name: string, emuUrl: string): Outbox {
  const outbox = createOutbox({ redis: conn.client, client: clientFor(emuUrl), name });
  cleanup.push(() => outbox.close());
  return outbox;
}

/** Every content delivered (text and custom elements), in order. */
function contents(emu: Emulator): string[] {
  return emu.deliveries.flatMap((d) =>
    d.body.MsgBody.map((el) => (el.MsgType === 'TIMTextElem' ? (el.MsgContent as { Text: string }).Text : String((el.MsgContent as { Data: string }).Data))),
  );
}

describe('deliverer processes crash', () => {
  it('SIGKILL of a deliverer holding a batch mid-backlog (faults on): the other two finish; every broadcast delivered exactly once, no 10023', async () => {
    const emu = await startEmulator({ faults: { rate: 0.15, kinds: ['lostAnswer', 'slow', 'http502', 'reset', 'error10002'], seed: 7, slowMs: 400 } });
    const name = uniqueName('sigkill');
    const key = uniqueName('rl');
    const outbox = producer(name, emu.url);
    const sent: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      for (const [body, content] of [
        [[text(`t-${i}`)], `t-${i}`],
        [[custom({ Data: `c-${i}` })], `c-${i}`],
      ] as const) {
        ids.push((await outbox.enqueue({ MsgBody: [...body] })).id);
        sent.push(content);
      }
    }

    const victim = await deliverer({ url: emu.url, name, key, stallOnSending: 2 });
    const others = [await deliverer({ url: emu.url, name, key }), await deliverer({ url: emu.url, name, key })];
    await until(() => victim.messages.some((m) => m.type === 'stalling'), 30_000, 'the victim to take its second batch');
    victim.process.kill('SIGKILL');
    await victim.exited;
    const held = victim.messages.find((m) => m.type === 'stalling')!.ids!;

    const settled = await Promise.allSettled(ids.map((id) => outbox.wait(id, { timeoutMs: 60_000 })));
    const states = settled.map((s) => (s.status === 'fulfilled' ? s.value.state : String((s.reason as Error).name)));
    expect(states.filter((s) => s !== 'delivered')).toEqual([]);
    // exactly once, by content: every broadcast is in exactly one accepted call
    const delivered = contents(emu);
    expect(repeats(delivered)).toEqual({});
    expect([...delivered].sort()).toEqual([...sent].sort());
    expect(emu.stats.rejected[10023]).toBeUndefined();
    // the victim's recorded batch was taken over by another process after its lease, and finished there
    const reclaimed = others.flatMap((c) => c.messages.filter((m) => m.type === 'reclaimed').flatMap((m) => m.ids!));
    expect(reclaimed).toEqual(expect.arrayContaining(held));
    const finishedBy = others.flatMap((c) => c.messages.filter((m) => m.type === 'delivered').flatMap((m) => m.ids!));
    expect(finishedBy).toEqual(expect.arrayContaining(held));
    // faults were drawn, so re-sends and lost answers were part of the run
    expect(Object.values(emu.stats.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  }, 90_000);

  it('killed after the API accepted its batch, before recording it: the batch is re-sent with the same Random and delivered once', async () => {
    let victim: Child | undefined;
    let killed = false;
    const emu = await startEmulator({
      // runs when the call has been handled, before its answer is written: the deliverer never hears back
      onCall: (call) => {
        if (call.code === 0 && !call.duplicate && !killed && victim) {
          killed = true;
          victim.process.kill('SIGKILL');
        }
      },
    });
    const name = uniqueName('acked');
    const outbox = producer(name, emu.url);
    const ids: string[] = [];
    for (const t of ['x', 'y', 'z']) ids.push((await outbox.enqueue({ MsgBody: [text(t)] })).id);

    const key = uniqueName('rl');
    victim = await deliverer({ url: emu.url, name, key });
    await victim.exited;
    expect(killed).toBe(true);
    expect(emu.deliveries).toHaveLength(1);
    expect((await outbox.status(ids[0]!))?.state).toBe('sending');

    // a replica in this process takes over after the lease
    const reclaimed: string[][] = [];
    const limiter = createRateLimiter({ store: new RedisStore({ client: conn.client as ConstructorParameters<typeof RedisStore>[0]['client'] }), ratePerSecond: RATE, key });
    const client = clientFor(emu.url, limiter);
    const replica = createOutbox({ redis: conn.client, client, name, leaseMs: LEASE_MS, coalesce: true, hooks: { onReclaimed: (e) => reclaimed.push(e.ids) } });
    cleanup.push(
      () => replica.close(),
      () => limiter.close(),
      () => client.close(),
    );
    await replica.start();
    const statuses: OutboxStatus[] = await Promise.all(ids.map((id) => replica.wait(id)));

    const [first] = emu.deliveries;
    expect(emu.deliveries).toHaveLength(1);
    expect(contents(emu)).toEqual(['x', 'y', 'z']);
    expect(emu.stats.duplicates).toBe(1);
    for (const status of statuses) expect(status).toMatchObject({ state: 'delivered', MsgSeq: first!.MsgSeq, Random: first!.Random, attempts: 2, batchSize: 3 });
    expect(reclaimed.flat()).toEqual(ids);
  }, 60_000);
});
