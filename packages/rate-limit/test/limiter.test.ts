import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { AbortError, ValidationError } from '@tim-broadcast/core';
import { createRateLimiter, LimiterClosedError, MemoryStore, StoreError, type RateLimitStore, type ReserveRequest } from '@tim-broadcast/rate-limit';
import { delay, rejection, track } from './helpers';

/** A MemoryStore that fails while `down` is true (the Redis outage tests use a real redis-server). */
class FlakyStore implements RateLimitStore {
  readonly name = 'flaky';
  down = false;
  calls = 0;
  readonly #inner = new MemoryStore();

  async reserve(key: string, request: ReserveRequest) {
    this.calls++;
    if (this.down) throw new Error('connection refused');
    return this.#inner.reserve(key, request);
  }

  async complete(key: string, id: string, windowMs: number) {
    if (this.down) throw new Error('connection refused');
    return this.#inner.complete(key, id, windowMs);
  }

  async penalize(key: string, ms: number) {
    if (this.down) throw new Error('connection refused');
    return this.#inner.penalize(key, ms);
  }
}

describe('createRateLimiter', () => {
  it('names each bad option', () => {
    const error = rejectionSync(() =>
      createRateLimiter({ ratePerSecond: 0, safetyMarginMs: -1, key: '', onStoreError: 'explode' as 'fail', store: {} as RateLimitStore }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path.join('.'))).toEqual(['ratePerSecond', 'safetyMarginMs', 'key', 'onStoreError', 'store']);
  });

  it('admits an idle caller at once, then spaces callers by (1000 + margin) / rate', async () => {
    const limiter = createRateLimiter({ ratePerSecond: 20, safetyMarginMs: 100 });
    expect(limiter.intervalMs).toBe(55);
    const start = performance.now();
    const admitted: number[] = [];
    await Promise.all(Array.from({ length: 6 }, () => limiter.acquire().then(() => admitted.push(performance.now()))));
    expect(admitted[0]! - start).toBeLessThan(50);
    admitted.slice(1).forEach((t, i) => expect(t - admitted[i]!).toBeGreaterThanOrEqual(54.9));
  });

  it('serves the callers of a process first come, first served', async () => {
    const limiter = createRateLimiter({ ratePerSecond: 50 });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 8 }, (_, i) => limiter.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('drops an aborted waiter with AbortError and serves the others', async () => {
    const limiter = createRateLimiter({ ratePerSecond: 10 });
    await limiter.acquire();
    const controller = new AbortController();
    const first = limiter.acquire({ signal: controller.signal });
    const second = track(limiter.acquire());
    expect(limiter.waiting).toBe(2);
    controller.abort(new Error('user went away'));
    const error = await rejection(first);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.cause).toEqual(new Error('user went away'));
    expect(limiter.waiting).toBe(1);
    await delay(200);
    expect(second.settled && second.error === undefined).toBe(true);
  });

  it('rejects an already aborted signal without waiting', async () => {
    const limiter = createRateLimiter();
    await expect(limiter.acquire({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(limiter.waiting).toBe(0);
  });

  it('close() rejects the waiters and later callers with LimiterClosedError', async () => {
    const limiter = createRateLimiter({ ratePerSecond: 1 });
    await limiter.acquire();
    const waiting = limiter.acquire();
    await limiter.close();
    expect(await rejection(waiting)).toBeInstanceOf(LimiterClosedError);
    expect(await rejection(limiter.acquire())).toBeInstanceOf(LimiterClosedError);
  });

  it('penalize() pushes the next slot back, even one already reserved', async () => {
    const limiter = createRateLimiter({ ratePerSecond: 20, safetyMarginMs: 0 });
    await limiter.acquire();
    const start = performance.now();
    const next = limiter.acquire(); // reserved for start + 50 ms
    await limiter.penalize(300);
    await next;
    expect(performance.now() - start).toBeGreaterThanOrEqual(299);
    await expect(limiter.penalize(-1)).rejects.toBeInstanceOf(ValidationError);
  });

  it('withSlot() hands its slot to the first acquire() inside it, and only to that one', async () => {
    const limiter = createRateLimiter({ ratePerSecond: 5, safetyMarginMs: 0 });
    await limiter.acquire();
    const start = performance.now();
    const times = await limiter.withSlot(async () => {
      const slot = performance.now();
      await limiter.acquire(); // the slot withSlot waited for
      const first = performance.now();
      await limiter.acquire(); // a new one
      return [slot, first, performance.now()];
    });
    expect(times[0]! - start).toBeGreaterThanOrEqual(199);
    expect(times[1]! - times[0]!).toBeLessThan(20);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(199);
  });

  it('withSlot() keeps the next call 1 s after the tracked one *completes*, however long it takes', async () => {
    const limiter = createRateLimiter({ ratePerSecond: 1 });
    let done = 0;
    await limiter.withSlot(async () => {
      await limiter.acquire();
      await delay(400); // a slow answer: the call may have reached the server at any moment until now
      done = performance.now();
    });
    await limiter.acquire();
    expect(performance.now() - done).toBeGreaterThanOrEqual(999);
  });

  it('withSlot() counts a retry inside it as a new tracked call', async () => {
    const limiter = createRateLimiter({ ratePerSecond: 1, safetyMarginMs: 0 });
    const times: number[] = [];
    await limiter.withSlot(async () => {
      await limiter.acquire();
      times.push(performance.now());
      await delay(200);
      await limiter.acquire(); // the retry: ≥ 1 s after the first attempt completed
      times.push(performance.now());
    });
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1_199);
  });

  it('a withSlot() that sends nothing frees its place at once', async () => {
    const limiter = createRateLimiter({ ratePerSecond: 2 });
    const start = performance.now();
    const long = limiter.withSlot(async () => {
      await limiter.acquire();
      await delay(1_500); // holds its place until ~2.5 s
    });
    await limiter.withSlot(async () => {}); // admitted at ~0.5 s, sends nothing
    await limiter.withSlot(async () => {}); // at ~1 s: one place is still free
    expect(performance.now() - start).toBeLessThan(1_400);
    await long;
  });

  describe('when the store fails', () => {
    it("'wait-and-retry' keeps callers waiting, retries, and admits them once the store answers", async () => {
      const store = new FlakyStore();
      const limiter = createRateLimiter({ store, ratePerSecond: 50 });
      store.down = true;
      const waiting = track(limiter.acquire());
      await delay(300);
      expect(waiting.settled).toBe(false);
      expect(store.calls).toBeGreaterThan(2); // retried with backoff
      expect(store.calls).toBeLessThan(15);
      expect(limiter.lastStoreError).toBeInstanceOf(StoreError);
      expect(limiter.lastStoreError?.message).toBe('rate-limit store "flaky": connection refused');
      store.down = false;
      await delay(600);
      expect(waiting.settled).toBe(true);
      expect(waiting.error).toBeUndefined();
      expect(limiter.lastStoreError).toBeUndefined();
    });

    it("'fail' rejects the waiters with a StoreError naming the store", async () => {
      const store = new FlakyStore();
      const limiter = createRateLimiter({ store, onStoreError: 'fail' });
      store.down = true;
      const errors = await Promise.all([rejection(limiter.acquire()), rejection(limiter.acquire())]);
      for (const error of errors) {
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).store).toBe('flaky');
        expect(error.cause).toEqual(new Error('connection refused'));
      }
      expect(await rejection(limiter.penalize(1_000))).toBeInstanceOf(StoreError);
      store.down = false;
      await expect(limiter.acquire()).resolves.toBeUndefined();
    });

    it("'wait-and-retry' penalize() records the failure without throwing", async () => {
      const store = new FlakyStore();
      const limiter = createRateLimiter({ store });
      store.down = true;
      await expect(limiter.penalize(1_000)).resolves.toBeUndefined();
      expect(limiter.lastStoreError).toBeInstanceOf(StoreError);
    });
  });
});

function rejectionSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
