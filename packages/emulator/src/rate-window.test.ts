import { describe, expect, it } from 'vitest';
import { mulberry32 } from './faults';
import { RateWindow } from './rate-window';

describe('RateWindow', () => {
  it.each([1, 2, 5])('never lets more than %i accepted calls into any rolling second, and refuses only when full', (limit) => {
    const random = mulberry32(limit);
    const window = new RateWindow(limit);
    const accepted: number[] = [];
    let now = 0;
    for (let i = 0; i < 5_000; i++) {
      now += Math.floor(random() * 400);
      const inLastSecond = accepted.filter((t) => now - t < 1000).length;
      if (window.isFull(now)) {
        expect(inLastSecond).toBe(limit);
      } else {
        expect(inLastSecond).toBeLessThan(limit);
        window.add(now);
        accepted.push(now);
      }
    }
    for (let i = limit; i < accepted.length; i++) expect(accepted[i]! - accepted[i - limit]!).toBeGreaterThanOrEqual(1000);
  });

  it('has no limit at Infinity', () => {
    const window = new RateWindow(Infinity);
    for (let i = 0; i < 100; i++) window.add(0);
    expect(window.isFull(0)).toBe(false);
    expect(window.count(0)).toBe(100);
    expect(window.count(1000)).toBe(0);
  });
});

describe('RateWindow, spacing model', () => {
  it.each([1, 5])('at %i/s admits a call exactly when 1000/rate ms have passed since the last accepted one', (limit) => {
    const random = mulberry32(limit + 100);
    const window = new RateWindow(limit, 'spacing');
    const spacing = 1000 / limit;
    let last: number | undefined;
    let now = 0;
    let refused = 0;
    for (let i = 0; i < 5_000; i++) {
      now += Math.floor(random() * spacing * 0.7);
      const allowed = last === undefined || now - last >= spacing;
      expect(window.isFull(now)).toBe(!allowed);
      if (allowed) {
        window.add(now);
        last = now;
      } else refused++;
    }
    expect(refused).toBeGreaterThan(1000);
  });

  it('is stricter than the window: a burst the window admits is refused', () => {
    const windowed = new RateWindow(5);
    const spaced = new RateWindow(5, 'spacing');
    for (const w of [windowed, spaced]) w.add(0);
    expect(windowed.isFull(10)).toBe(false);
    expect(spaced.isFull(10)).toBe(true);
    expect(spaced.isFull(199)).toBe(true);
    expect(spaced.isFull(200)).toBe(false);
    spaced.clear();
    expect(spaced.isFull(0)).toBe(false);
  });
});
