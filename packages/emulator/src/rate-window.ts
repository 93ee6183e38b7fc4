const WINDOW_MS = 1_000;

/**
 * The times of accepted calls within the last second. A call is allowed while fewer than `limit` accepted
 * calls happened in (now - 1000 ms, now], so no rolling second ever holds more than `limit` accepted calls.
 */
export class RateWindow {
  limit: number;
  private times: number[] = [];
  private head = 0;

  constructor(limit: number) {
    this.limit = limit;
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
    return this.limit !== Infinity && this.count(now) >= this.limit;
  }

  /** Records an accepted call; returns how many accepted calls the second ending at `now` now holds. */
  add(now: number): number {
    this.times.push(now);
    return this.count(now);
  }

  clear(): void {
    this.times = [];
    this.head = 0;
  }
}
