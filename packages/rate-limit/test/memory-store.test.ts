import { describe, expect, it } from 'vitest';
import { ValidationError } from '@tim-broadcast/core';
import { MemoryStore } from '@tim-broadcast/rate-limit';
import { manualClock, settleMicrotasks } from './helpers';

const every = (intervalMs: number, extra: { limit?: number; id?: string } = {}) => ({ intervalMs, limit: 1, holdMs: 5_000, ...extra });

function setUp() {
  const clock = manualClock();
  return { clock, store: new MemoryStore({ clock }) };
}

describe('MemoryStore', () => {
  it('admits at once when idle, then not until one interval after the admitted call', async () => {
    const { clock, store } = setUp();
    expect(await store.reserve('k', every(100))).toEqual({ waitMs: 0 });
    await clock.advance(30);
    expect(await store.reserve('k', every(100))).toEqual({ waitMs: 70 });
    expect(await store.reserve('k', every(100))).toEqual({ waitMs: 70 }); // a refused try changes nothing
    await clock.advance(70);
    expect(await store.reserve('k', every(100))).toEqual({ waitMs: 0 });
  });

  it('keeps keys apart', async () => {
    const { store } = setUp();
    await store.reserve('a', every(1_000));
    expect((await store.reserve('b', every(1_000))).waitMs).toBe(0);
    expect((await store.reserve('a', every(1_000))).waitMs).toBe(1_000);
  });

  it('penalize pushes the schedule to max(TAT, now) + ms', async () => {
    const { clock, store } = setUp();
    await store.penalize('idle', 300);
    expect((await store.reserve('idle', every(100))).waitMs).toBe(300);

    await store.reserve('busy', every(500)); // admitted at 0: TAT = 500
    await clock.advance(100);
    await store.penalize('busy', 300); // TAT = 800
    expect((await store.reserve('busy', every(100))).waitMs).toBe(700);
  });

  it('holds a tracked call in the log until its completion + the window, up to `limit` at once', async () => {
    const { clock, store } = setUp();
    expect(await store.reserve('k', every(0, { limit: 2, id: 'a' }))).toEqual({ waitMs: 0 });
    expect(await store.reserve('k', every(0, { limit: 2, id: 'b' }))).toEqual({ waitMs: 0 });
    // two places held until completion: the third waits (for up to the hold)
    expect(await store.reserve('k', every(0, { limit: 2, id: 'c' }))).toEqual({ waitMs: 5_000 });
    await clock.advance(10);
    await store.complete('k', 'a', 100);
    expect(await store.reserve('k', every(0, { limit: 2, id: 'c' }))).toEqual({ waitMs: 100 });
    await clock.advance(100);
    expect(await store.reserve('k', every(0, { limit: 2, id: 'c' }))).toEqual({ waitMs: 0 });
    // untracked calls pass the log only when it has room, and take no place in it
    expect(await store.reserve('k', every(0, { limit: 2 }))).toEqual({ waitMs: 4_890 });
    await store.complete('k', 'unknown', 100_000); // ignored
    await store.complete('k', 'b', 0);
    expect(await store.reserve('k', every(0, { limit: 2 }))).toEqual({ waitMs: 0 });
    expect(await store.reserve('k', every(0, { limit: 2 }))).toEqual({ waitMs: 0 });
  });

  it('hold() extends a place still in flight, never shortens it, and ignores unknown ids', async () => {
    const { clock, store } = setUp();
    await store.reserve('k', every(0, { id: 'a' })); // held until 5000
    await clock.advance(4_000);
    await store.hold('k', 'a', 5_000); // until 9000
    await store.hold('k', 'a', 1_000); // not shortened
    await store.hold('k', 'nobody', 60_000); // unknown: ignored
    expect(await store.reserve('k', every(0, { id: 'b' }))).toEqual({ waitMs: 5_000 });
    expect(await store.reserve('k', every(0, { limit: 2, id: 'b' }))).toEqual({ waitMs: 0 }); // 'nobody' took no place
  });

  it('tells watchers of the key when a tracked call completes, after the step has returned', async () => {
    const { store } = setUp();
    const heard: number[] = [];
    const stop = store.watch('k', (inMs) => heard.push(inMs));
    const other: number[] = [];
    store.watch('other', (inMs) => other.push(inMs));
    await settleMicrotasks();
    expect(heard).toEqual([0]); // a new watch may have missed news: "look again"
    await store.reserve('k', every(0, { id: 'a' }));
    const completing = store.complete('k', 'a', 250);
    expect(heard).toEqual([0]);
    await completing;
    await settleMicrotasks();
    expect(heard).toEqual([0, 250]);
    await store.complete('k', 'unknown', 1); // nothing freed, nothing said
    stop();
    await store.reserve('k', every(0, { id: 'b' }));
    await store.complete('k', 'b', 0);
    await settleMicrotasks();
    expect(heard).toEqual([0, 250]);
    expect(other).toEqual([0]);
  });

  it('refuses unknown options and a bad clock with a ValidationError', () => {
    expect(() => new MemoryStore({ clok: {} } as never)).toThrow(ValidationError);
    expect(() => new MemoryStore({ clock: { now: () => 0 } } as never)).toThrow(/clock: expected a Clock/);
  });
});
