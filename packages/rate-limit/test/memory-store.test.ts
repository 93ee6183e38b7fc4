import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@tim-broadcast/rate-limit';
import { delay } from './helpers';

const every = (intervalMs: number, extra: { limit?: number; id?: string } = {}) => ({ intervalMs, limit: 1, holdMs: 5_000, ...extra });

describe('MemoryStore', () => {
  it('admits at once when idle, then not until one interval after the admitted call', async () => {
    const store = new MemoryStore();
    expect(await store.reserve('k', every(100))).toEqual({ waitMs: 0 });
    const { waitMs } = await store.reserve('k', every(100));
    expect(waitMs).toBeGreaterThan(90);
    expect(waitMs).toBeLessThanOrEqual(100);
    // a refused try changes nothing
    expect((await store.reserve('k', every(100))).waitMs).toBeLessThanOrEqual(waitMs);
    await delay(waitMs + 2);
    expect(await store.reserve('k', every(100))).toEqual({ waitMs: 0 });
  });

  it('keeps keys apart', async () => {
    const store = new MemoryStore();
    await store.reserve('a', every(1_000));
    expect((await store.reserve('b', every(1_000))).waitMs).toBe(0);
    expect((await store.reserve('a', every(1_000))).waitMs).toBeGreaterThan(900);
  });

  it('penalize pushes the schedule to max(TAT, now) + ms', async () => {
    const store = new MemoryStore();
    await store.penalize('idle', 300);
    expect((await store.reserve('idle', every(100))).waitMs).toBeGreaterThan(290);

    await store.reserve('busy', every(500)); // admitted: TAT = now + 500
    await store.penalize('busy', 300); // TAT = now + 800
    expect((await store.reserve('busy', every(100))).waitMs).toBeGreaterThan(790);
  });

  it('holds a tracked call in the log until its completion + the window, up to `limit` at once', async () => {
    const store = new MemoryStore();
    expect(await store.reserve('k', every(0, { limit: 2, id: 'a' }))).toEqual({ waitMs: 0 });
    expect(await store.reserve('k', every(0, { limit: 2, id: 'b' }))).toEqual({ waitMs: 0 });
    // two places held until completion: the third waits (for up to the hold)
    expect((await store.reserve('k', every(0, { limit: 2, id: 'c' }))).waitMs).toBeGreaterThan(4_900);
    await store.complete('k', 'a', 100);
    const { waitMs } = await store.reserve('k', every(0, { limit: 2, id: 'c' }));
    expect(waitMs).toBeGreaterThan(90);
    expect(waitMs).toBeLessThanOrEqual(100);
    await delay(waitMs + 2);
    expect(await store.reserve('k', every(0, { limit: 2, id: 'c' }))).toEqual({ waitMs: 0 });
    // untracked calls pass the log only when it has room, and take no place in it
    expect((await store.reserve('k', every(0, { limit: 2 }))).waitMs).toBeGreaterThan(4_000);
    await store.complete('k', 'unknown', 100_000); // ignored
    await store.complete('k', 'b', 0);
    expect(await store.reserve('k', every(0, { limit: 2 }))).toEqual({ waitMs: 0 });
    expect(await store.reserve('k', every(0, { limit: 2 }))).toEqual({ waitMs: 0 });
  });
});
