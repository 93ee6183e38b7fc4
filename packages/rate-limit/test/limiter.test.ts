import { describe, expect, it, vi } from 'vitest';
import { AbortError, TimeoutError, ValidationError, type LimiterPermit } from '@tim-broadcast/core';
import {
  createRateLimiter,
  LimiterClosedError,
  MemoryStore,
  StoreError,
  type RateLimiterOptions,
  type RateLimitStore,
  type ReserveRequest,
} from '@tim-broadcast/rate-limit';
import { manualClock, recordingLogger, rejection, settleMicrotasks, track, type ManualClock } from './helpers';

/** A MemoryStore on `clock` that counts its steps and fails while `down` (the Redis outage tests use a real redis-server). */
class CountingStore implements RateLimitStore {
  readonly name = 'counting';
  down = false;
  reserves = 0;
  holds = 0;
  readonly inner: MemoryStore;

  constructor(clock: ManualClock, readonly canWatch = true) {
    this.inner = new MemoryStore({ clock });
    if (!canWatch) (this as { watch?: unknown }).watch = undefined;
  }

  async reserve(key: string, request: ReserveRequest) {
    this.reserves++;
    if (this.down) throw new Error('connection refused');
    return this.inner.reserve(key, request);
  }

  async complete(key: string, id: string, windowMs: number) {
    if (this.down) throw new Error('connection refused');
    return this.inner.complete(key, id, windowMs);
  }

  async hold(key: string, id: string, holdMs: number) {
    this.holds++;
    if (this.down) throw new Error('connection refused');
    return this.inner.hold(key, id, holdMs);
  }

  async penalize(key: string, ms: number) {
    if (this.down) throw new Error('connection refused');
    return this.inner.penalize(key, ms);
  }

  watch(key: string, listener: (inMs: number) => void) {
    return this.inner.watch(key, listener);
  }
}

function setUp(options: RateLimiterOptions = {}, canWatch = true) {
  const clock = manualClock();
  const store = new CountingStore(clock, canWatch);
  const limiter = createRateLimiter({ clock, store, logger: false, ...options });
  /** Admission times of `acquire()` calls, on the manual clock. */
  const admit = (signal?: AbortSignal) => {
    const state = track(limiter.acquire({ signal }).then((permit) => ({ permit, at: clock.now() })));
    return state;
  };
  return { clock, store, limiter, admit };
}

const permitOf = (state: { value?: { permit: LimiterPermit } }) => state.value!.permit;

describe('createRateLimiter', () => {
  it('names each bad option, and an unknown one with the closest known name', () => {
    let error: ValidationError | undefined;
    try {
      createRateLimiter({
        ratePerSecond: 0,
        key: '',
        onStoreError: 'explode' as 'fail',
        store: {} as RateLimitStore,
        maxWaitMs: Infinity,
        model: 'burst' as 'window',
        ratePerSecnd: 5,
      } as RateLimiterOptions);
    } catch (err) {
      error = err as ValidationError;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const byPath = Object.fromEntries(error!.issues.map((i) => [i.path.join('.'), i.message]));
    expect(Object.keys(byPath).sort()).toEqual(['key', 'maxWaitMs', 'model', 'onStoreError', 'ratePerSecnd', 'ratePerSecond', 'store']);
    expect(byPath.ratePerSecnd).toMatch(/unknown option \(did you mean 'ratePerSecond'\?\)/);
    expect(byPath.maxWaitMs).toMatch(/got Infinity/);
  });

  it("'spacing': admits an idle caller at once; the next comes one interval after the previous call ended", async () => {
    const { clock, limiter, admit } = setUp({ ratePerSecond: 5 });
    const first = admit();
    const second = admit();
    await clock.advance(0);
    expect(first.value?.at).toBe(0);
    await clock.advance(900); // the first call is still in flight: nothing else may go, however long it takes
    expect(second.settled).toBe(false);
    permitOf(first).release(); // answered at t = 900
    await clock.advance(1_000);
    expect(second.value?.at).toBe(1_100); // 900 + 1000 / 5
    expect(limiter.intervalMs).toBe(200);
  });

  it("'spacing': an answer within the interval still leaves the interval between admissions (GCRA)", async () => {
    const { clock, admit } = setUp({ ratePerSecond: 5 });
    const first = admit();
    const second = admit();
    await clock.advance(0);
    permitOf(first).release(); // at t = 0
    await clock.advance(500);
    expect(second.value?.at).toBe(200);
  });

  it("'window': ⌊rate⌋ calls in flight at once, one interval apart; the next 1 s after the first one ended", async () => {
    const { clock, admit } = setUp({ ratePerSecond: 5, model: 'window' });
    const calls = Array.from({ length: 6 }, () => admit());
    await clock.advance(2_000);
    expect(calls.slice(0, 5).map((c) => c.value?.at)).toEqual([0, 200, 400, 600, 800]);
    expect(calls[5]!.settled).toBe(false);
    permitOf(calls[0]!).release(); // at t = 2000
    await clock.advance(2_000);
    expect(calls[5]!.value?.at).toBe(3_000);
  });

  it('serves the callers of a process first come, first served', async () => {
    const { clock, admit } = setUp({ ratePerSecond: 50 });
    const calls = Array.from({ length: 8 }, () => admit());
    for (let i = 0; i < 8; i++) {
      await clock.advance(20);
      const admitted = calls.filter((c) => c.settled);
      admitted.forEach((c) => permitOf(c).release());
    }
    const order = [...calls].sort((a, b) => a.value!.at - b.value!.at);
    expect(order).toEqual(calls);
  });

  it('waits quietly: store calls per admission do not grow with how long callers wait', async () => {
    const { clock, store, admit } = setUp({ ratePerSecond: 1 });
    const calls = Array.from({ length: 5 }, () => admit());
    // each call takes 1.5 s to answer; the others wait up to 12 s
    for (let i = 0; i < 5; i++) {
      await clock.advance(1_500);
      permitOf(calls[i]!).release();
      await clock.advance(1_000);
    }
    expect(calls.every((c) => c.settled && !c.error)).toBe(true);
    expect(calls.map((c) => c.value!.at)).toEqual([0, 2_500, 5_000, 7_500, 10_000]);
    // one reserve that finds the place held, one when news of its release says it is free: ≤ 2 per call
    expect(store.reserves).toBeLessThanOrEqual(2 * 5);
  });

  it('without store news (no watch()), looks again every 100 ms while another process holds the place', async () => {
    const { clock, store, admit } = setUp({ ratePerSecond: 1 }, false);
    const other = createRateLimiter({ clock, store, logger: false, ratePerSecond: 1 }); // same store and key: another process
    const first = track(other.acquire());
    await clock.advance(0);
    const before = store.reserves;
    const second = admit();
    await clock.advance(1_000);
    expect(store.reserves - before).toBeGreaterThanOrEqual(10);
    first.value!.release();
    await clock.advance(1_100);
    expect(second.value?.at).toBeGreaterThanOrEqual(2_000);
    expect(second.value?.at).toBeLessThanOrEqual(2_100);
  });

  it("with one place, waits out its own call without asking the store: one reservation and one release per call", async () => {
    const { clock, store, limiter } = setUp({ ratePerSecond: 1 });
    const admitted: number[] = [];
    const run = track(
      (async () => {
        for (let i = 0; i < 5; i++) {
          const permit = await limiter.acquire();
          admitted.push(clock.now());
          await new Promise<void>((resolve) => clock.setTimer(resolve, 50)); // the call's round trip
          permit.release();
        }
      })(),
    );
    await clock.advance(6_000);
    expect(run.settled && !run.error).toBe(true);
    // each call 1,000 ms after the previous one ended, as the store would have said
    expect(admitted).toEqual([0, 1_050, 2_100, 3_150, 4_200]);
    expect(store.reserves).toBe(5);
  });

  it('keeps the place of a call in flight longer than the store hold, renewing it', async () => {
    const { clock, store, admit } = setUp({ ratePerSecond: 1 });
    const first = admit();
    const second = admit();
    await clock.advance(12_000); // the store holds an unreported place 5 s; the limiter keeps renewing it
    expect(second.settled).toBe(false);
    expect(store.holds).toBeGreaterThanOrEqual(5);
    permitOf(first).release();
    permitOf(first).release(); // idempotent
    await clock.advance(1_000);
    expect(second.value?.at).toBe(13_000);
  });

  it('releases a permit never released after 60 s, and warns once', async () => {
    const logger = recordingLogger();
    const { clock, admit } = setUp({ ratePerSecond: 1, logger, maxWaitMs: 120_000 });
    const first = admit();
    const second = admit();
    await clock.advance(59_000);
    expect(first.settled && !second.settled).toBe(true);
    await clock.advance(3_000);
    expect(second.value?.at).toBeGreaterThanOrEqual(61_000);
    expect(second.value?.at).toBeLessThanOrEqual(62_000);
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringMatching(/not released within 60 s/)]);
  });

  it('drops an aborted waiter with AbortError and serves the others', async () => {
    const { clock, limiter, admit } = setUp({ ratePerSecond: 10 });
    const held = admit();
    const controller = new AbortController();
    const first = limiter.acquire({ signal: controller.signal });
    const second = admit();
    await clock.advance(0);
    expect(limiter.waiting).toBe(2);
    controller.abort(new Error('user went away'));
    const error = await rejection(first);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.cause).toEqual(new Error('user went away'));
    expect(limiter.waiting).toBe(1);
    permitOf(held).release();
    await clock.advance(100);
    expect(second.value?.at).toBe(100);
  });

  it('rejects an already aborted signal, and a signal that is not an AbortSignal, without waiting', async () => {
    const { limiter } = setUp();
    await expect(limiter.acquire({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    const bad = await rejection(limiter.acquire({ signal: 'soon' as unknown as AbortSignal }));
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).issues[0]!.path).toEqual(['signal']);
    expect(limiter.waiting).toBe(0);
  });

  it('bounds a wait with maxWaitMs: a TimeoutError, or a StoreError while the store fails; nothing admitted', async () => {
    const { clock, store, limiter, admit } = setUp({ ratePerSecond: 1, maxWaitMs: 10_000 });
    admit();
    const waiting = admit();
    await clock.advance(10_000);
    expect(waiting.error).toBeInstanceOf(TimeoutError);
    expect((waiting.error as Error).message).toBe('no rate-limit slot within 10000 ms (maxWaitMs); nothing was sent');

    store.down = true;
    const failing = admit();
    await clock.advance(10_000);
    expect(failing.error).toBeInstanceOf(StoreError);
    expect((failing.error as StoreError).message).toMatch(/^rate-limit store "counting": still failing after 10000 ms of waiting for a slot \(maxWaitMs\) \(connection refused\)/);
    expect(limiter.waiting).toBe(0);
  });

  it('a deadline (a TimeoutError reason) that ends the wait while the store fails gives a StoreError', async () => {
    const { clock, store, limiter } = setUp();
    store.down = true;
    const deadline = new AbortController();
    const waiting = track(limiter.acquire({ signal: deadline.signal }));
    await clock.advance(1_000);
    deadline.abort(new DOMException('deadline', 'TimeoutError'));
    await settleMicrotasks();
    expect(waiting.error).toBeInstanceOf(StoreError);
    expect((waiting.error as Error).message).toMatch(/still failing at the deadline/);

    const user = new AbortController();
    const aborted = track(limiter.acquire({ signal: user.signal }));
    user.abort('bye');
    await settleMicrotasks();
    expect(aborted.error).toBeInstanceOf(AbortError); // the caller's own abort stays an abort
  });

  it('close() rejects the waiters and later callers with LimiterClosedError', async () => {
    const { clock, limiter, admit } = setUp({ ratePerSecond: 1 });
    admit();
    const waiting = admit();
    await clock.advance(0);
    await limiter.close();
    await settleMicrotasks();
    expect(waiting.error).toBeInstanceOf(LimiterClosedError);
    expect(await rejection(limiter.acquire())).toBeInstanceOf(LimiterClosedError);
  });

  it('penalize() pushes the next slot back, even one already waited for', async () => {
    const { clock, limiter, admit } = setUp({ ratePerSecond: 20 });
    const first = admit();
    await clock.advance(0);
    permitOf(first).release();
    const next = admit();
    await limiter.penalize(300); // the schedule said 50 (one interval after the first admission): now 350
    await clock.advance(1_000);
    expect(next.value?.at).toBe(350);
    await expect(limiter.penalize(-1)).rejects.toBeInstanceOf(ValidationError);
    await expect(limiter.penalize(Infinity)).rejects.toBeInstanceOf(ValidationError);
  });

  describe('withSlot()', () => {
    it('hands its slot to the first acquire() inside it, and only to that one', async () => {
      const { clock, limiter } = setUp({ ratePerSecond: 5 });
      const times: number[] = [];
      const run = track(
        limiter.withSlot(async () => {
          times.push(clock.now());
          const first = await limiter.acquire(); // the slot withSlot waited for
          times.push(clock.now());
          first.release();
          await limiter.acquire(); // a new one
          times.push(clock.now());
        }),
      );
      await clock.advance(1_000);
      expect(run.settled && !run.error).toBe(true);
      expect(times).toEqual([0, 0, 200]);
    });

    it('frees the place when fn settles without taking the slot', async () => {
      const { clock, limiter, admit } = setUp({ ratePerSecond: 5, model: 'window' });
      const empty = track(
        limiter.withSlot(async () => {
          await new Promise<void>((resolve) => clock.setTimer(resolve, 500));
          return 'nothing to send';
        }),
      );
      const calls = Array.from({ length: 5 }, () => admit());
      await clock.advance(2_000);
      expect(empty.value).toBe('nothing to send');
      // five places: the empty slot's was freed at 500 (not held until 1500), so the fifth call goes at its GCRA time
      expect(calls.map((c) => c.value?.at)).toEqual([200, 400, 600, 800, 1_000]);
    });

    it('holds the place until the call inside ends, then one interval more; a retry inside is a new call', async () => {
      const { clock, limiter } = setUp({ ratePerSecond: 1 });
      const times: number[] = [];
      const run = track(
        limiter.withSlot(async () => {
          const first = await limiter.acquire();
          times.push(clock.now());
          await new Promise<void>((resolve) => clock.setTimer(resolve, 400)); // a slow answer
          first.release();
          await limiter.acquire(); // the retry
          times.push(clock.now());
        }),
      );
      await clock.advance(3_000);
      expect(run.settled && !run.error).toBe(true);
      expect(times).toEqual([0, 1_400]);
    });

    it("keeps each limiter's slot for its own acquire() when withSlot calls of two limiters nest", async () => {
      const clock = manualClock();
      const store = new MemoryStore({ clock });
      const a = createRateLimiter({ store, clock, key: 'a', ratePerSecond: 1 });
      const b = createRateLimiter({ store, clock, key: 'b', ratePerSecond: 1 });
      const times: string[] = [];
      const run = track(
        a.withSlot(() =>
          b.withSlot(async () => {
            // each takes the slot its own withSlot waited for (a's is not hidden by b's), at once
            (await a.acquire()).release();
            times.push(`a ${clock.now()}`);
            (await b.acquire()).release();
            times.push(`b ${clock.now()}`);
          }),
        ),
      );
      await clock.advance(100);
      expect(run.settled && !run.error).toBe(true);
      expect(times).toEqual(['a 0', 'b 0']);
    });

    it('releases a slot taken but never released when fn settles', async () => {
      const { clock, limiter, admit } = setUp({ ratePerSecond: 1 });
      const run = track(limiter.withSlot(async () => void (await limiter.acquire())));
      const next = admit();
      await clock.advance(0);
      expect(run.settled).toBe(true);
      await clock.advance(2_000);
      expect(next.value?.at).toBe(1_000);
    });
  });

  describe('when the store fails', () => {
    it("'wait-and-retry' keeps callers waiting with backoff, logs the outage and the recovery once each, then admits", async () => {
      const logger = recordingLogger();
      const { clock, store, limiter, admit } = setUp({ ratePerSecond: 50, logger });
      store.down = true;
      const waiting = admit();
      await clock.advance(3_000);
      expect(waiting.settled).toBe(false);
      expect(store.reserves).toBeGreaterThan(3); // retried, with backoff: 50 ms doubling to 2 s
      expect(store.reserves).toBeLessThan(12);
      expect(limiter.lastStoreError).toBeInstanceOf(StoreError);
      expect(limiter.lastStoreError?.message).toBe('rate-limit store "counting": connection refused');
      store.down = false;
      await clock.advance(2_100);
      expect(waiting.settled && !waiting.error).toBe(true);
      expect(limiter.lastStoreError).toBeUndefined();
      expect(logger.lines.map((l) => [l.level, l.message])).toEqual([
        ['warn', 'tim-broadcast: rate-limit store failing; nothing is admitted until it answers'],
        ['info', 'tim-broadcast: rate-limit store answering again'],
      ]);
    });

    it('logs to the console by default, once per outage', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const info = vi.spyOn(console, 'info').mockImplementation(() => {});
      try {
        const clock = manualClock();
        const store = new CountingStore(clock);
        const limiter = createRateLimiter({ clock, store }); // no logger option
        store.down = true;
        const waiting = track(limiter.acquire());
        await clock.advance(5_000);
        expect(store.reserves).toBeGreaterThan(3);
        expect(warn).toHaveBeenCalledTimes(1);
        expect(warn.mock.calls[0]![0]).toMatch(/rate-limit store failing/);
        store.down = false;
        await clock.advance(2_100);
        expect(waiting.settled && !waiting.error).toBe(true);
        expect(info).toHaveBeenCalledTimes(1);
        expect(info.mock.calls[0]![0]).toMatch(/answering again/);
      } finally {
        warn.mockRestore();
        info.mockRestore();
      }
    });

    it("'fail' rejects the waiters with a StoreError naming the store", async () => {
      const { store, limiter } = setUp({ onStoreError: 'fail' });
      store.down = true;
      const errors = await Promise.all([rejection(limiter.acquire()), rejection(limiter.acquire())]);
      for (const error of errors) {
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).store).toBe('counting');
        expect(error.cause).toEqual(new Error('connection refused'));
      }
      expect(await rejection(limiter.penalize(1_000))).toBeInstanceOf(StoreError);
      store.down = false;
      await expect(limiter.acquire()).resolves.toHaveProperty('release');
    });

    it("'wait-and-retry' penalize() records the failure without throwing", async () => {
      const { store, limiter } = setUp();
      store.down = true;
      await expect(limiter.penalize(1_000)).resolves.toBeUndefined();
      expect(limiter.lastStoreError).toBeInstanceOf(StoreError);
    });
  });
});
