import { objectIssue, throwIfIssues, unknownOptionIssues } from '@tim-broadcast/core';
import { clockProblem, systemClock, type Clock } from '../clock';
import type { FreedListener, RateLimitStore, ReserveRequest } from './store';

interface Schedule {
  tat: number;
  /** Tracked call id → when its place is freed. */
  log: Map<string, number>;
}

export interface MemoryStoreOptions {
  /** Time source (default the monotonic clock); give the limiter the same one. */
  clock?: Clock;
}

/** A store for limiters in one process. Uses the monotonic clock, so wall-clock jumps do not matter. */
export class MemoryStore implements RateLimitStore {
  readonly name = 'memory';
  readonly #schedules = new Map<string, Schedule>();
  readonly #watchers = new Map<string, Set<FreedListener>>();
  readonly #clock: Clock;

  constructor(options: MemoryStoreOptions = {}) {
    throwIfIssues('invalid MemoryStore options', [
      objectIssue(options, [], true),
      ...(options && typeof options === 'object' ? unknownOptionIssues(options, ['clock']) : []),
      options?.clock !== undefined && clockProblem(options.clock) ? { path: ['clock'], message: clockProblem(options.clock)! } : undefined,
    ]);
    this.#clock = options?.clock ?? systemClock;
  }

  async reserve(key: string, request: ReserveRequest): Promise<{ waitMs: number }> {
    const now = this.#clock.now();
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
    const now = this.#clock.now();
    const log = this.#schedule(key, now).log;
    if (!log.has(id)) return;
    log.set(id, now + windowMs);
    const watchers = this.#watchers.get(key);
    // after this step has returned, as a store on another machine would
    if (watchers) queueMicrotask(() => watchers.forEach((listener) => listener(windowMs)));
  }

  async hold(key: string, id: string, holdMs: number): Promise<void> {
    const now = this.#clock.now();
    const log = this.#schedule(key, now).log;
    const freedAt = log.get(id);
    if (freedAt !== undefined && freedAt < now + holdMs) log.set(id, now + holdMs);
  }

  async penalize(key: string, ms: number): Promise<void> {
    const now = this.#clock.now();
    const s = this.#schedule(key, now);
    s.tat = Math.max(s.tat, now) + ms;
  }

  watch(key: string, listener: FreedListener): () => void {
    let set = this.#watchers.get(key);
    if (!set) this.#watchers.set(key, (set = new Set()));
    set.add(listener);
    // news sent before this watch began is lost: "look again", as a store reached over a network would say
    queueMicrotask(() => set.has(listener) && listener(0));
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#watchers.get(key) === set) this.#watchers.delete(key);
    };
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
