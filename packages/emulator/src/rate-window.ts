import type { RateModel } from './options';

const WINDOW_MS = 1_000;

/**
 * The times of accepted calls within the last second, and the rule that admits the next one:
 * - 'window': a call is allowed while fewer than `limit` accepted calls happened in (now - 1000 ms, now], so no
 *   rolling second ever holds more than `limit` accepted calls;
 * - 'spacing': a call is allowed when at least 1000 / `limit` ms have passed since the last accepted call.
 */
export class RateWindow {
  limit: number;
  model: RateModel;
  private times: number[] = [];
  private head = 0;
  private last: number | undefined;

  constructor(limit: number, model: RateModel = 'window') {
    this.limit = limit;
    this.model = model;
  }

  /** Accepted calls in the second ending at `now`. */
  count(now: number): number {
    while (this.head < this.times.length && this.times[this.head]! <= now - WINDOW_MS) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  isFull(now: number): boolean {
    if (this.limit === Infinity) return false;
    if (this.model === 'spacing') return this.last !== undefined && now - this.last < WINDOW_MS / this.limit;
    return this.count(now) >= this.limit;
  }

  /** Records an accepted call; returns how many accepted calls the second ending at `now` now holds. */
  add(now: number): number {
    this.times.push(now);
    this.last = now;
    return this.count(now);
  }

  clear(): void {
    this.times = [];
    this.head = 0;
    this.last = undefined;
  }
}
