import { performance } from 'node:perf_hooks';
import type { RateLimitStore, ReserveRequest } from './store';

interface Schedule {
  tat: number;
  /** Tracked call id → when its place is freed. */
  log: Map<string, number>;
}

/** A store for limiters in one process. Uses the monotonic clock, so wall-clock jumps do not matter. */
export class MemoryStore implements RateLimitStore {
  readonly name = 'memory';
  readonly #schedules = new Map<string, Schedule>();

  async reserve(key: string, request: ReserveRequest): Promise<{ waitMs: number }> {
    const now = performance.now();
    const s = this.#schedule(key, now);
    let waitMs = s.tat - now;
    if (s.log.size >= request.limit) {
      const freed = [...s.log.values()].sort((a, b) => a - b);
      waitMs = Math.max(waitMs, freed[s.log.size - request.limit]! - now);
    }
    if (waitMs > 0) return { waitMs };
    s.tat = now + request.intervalMs;
    if (request.id !== undefined) s.log.set(request.id, now + request.holdMs);
    return { waitMs: 0 };
  }

  async complete(key: string, id: string, windowMs: number): Promise<void> {
    const now = performance.now();
    const log = this.#schedule(key, now).log;
    if (log.has(id)) log.set(id, now + windowMs);
  }

  async penalize(key: string, ms: number): Promise<void> {
    const now = performance.now();
    const s = this.#schedule(key, now);
    s.tat = Math.max(s.tat, now) + ms;
  }

  async close(): Promise<void> {
    this.#schedules.clear();
  }

  /** The schedule of `key`, with freed places dropped; idle schedules of other keys are forgotten. */
  #schedule(key: string, now: number): Schedule {
    let s = this.#schedules.get(key);
    if (!s) {
      if (this.#schedules.size > 1_000) for (const [k, other] of this.#schedules) if (other.tat < now && other.log.size === 0) this.#schedules.delete(k);
      s = { tat: now, log: new Map() };
      this.#schedules.set(key, s);
    }
    for (const [id, freedAt] of s.log) if (freedAt <= now) s.log.delete(id);
    return s;
  }
}
