import { MAX_TIMER_MS, numberIssue, objectIssue, unknownOptionIssues, type ValidationIssue } from '@tim-broadcast/core';
import { clockProblem } from './clock';
import type { RateLimiterOptions } from './limiter';

export const LIMITER_KEYS = ['store', 'ratePerSecond', 'model', 'key', 'onStoreError', 'maxWaitMs', 'logger', 'clock'] as const;

/** The highest rate accepted: well above any edition's (1 or 5 calls/s). */
const MAX_RATE = 1_000;

/** Issues with limiter options, paths relative to the options object; `known` adds keys a wrapper accepts too. */
export function rateLimiterIssues(options: RateLimiterOptions, known: readonly string[] = LIMITER_KEYS): ValidationIssue[] {
  const shape = objectIssue(options, []);
  if (shape) return [shape];
  const issues: (ValidationIssue | undefined)[] = [...unknownOptionIssues(options, known)];
  const { store, ratePerSecond, model, key, onStoreError, maxWaitMs, logger, clock } = options;
  issues.push(numberIssue(ratePerSecond, ['ratePerSecond'], 'number', { min: 0, minInclusive: false, max: MAX_RATE }));
  if (model !== undefined && model !== 'spacing' && model !== 'window') issues.push({ path: ['model'], message: "expected 'spacing' or 'window'" });
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 256)) {
    issues.push({ path: ['key'], message: 'expected a non-empty string of at most 256 characters' });
  }
  if (onStoreError !== undefined && onStoreError !== 'fail' && onStoreError !== 'wait-and-retry') {
    issues.push({ path: ['onStoreError'], message: "expected 'fail' or 'wait-and-retry'" });
  }
  issues.push(numberIssue(maxWaitMs, ['maxWaitMs'], 'ms', { min: 1, max: MAX_TIMER_MS }));
  if (logger !== undefined && logger !== false && (typeof logger !== 'object' || logger === null)) {
    issues.push({ path: ['logger'], message: 'expected a console-compatible logger, or false' });
  }
  if (clock !== undefined && clockProblem(clock)) issues.push({ path: ['clock'], message: clockProblem(clock)! });
  const s = store as Partial<Record<string, unknown>> | null | undefined;
  if (
    store !== undefined &&
    (typeof s?.reserve !== 'function' || typeof s?.complete !== 'function' || typeof s?.penalize !== 'function' || typeof s?.name !== 'string')
  ) {
    issues.push({ path: ['store'], message: 'expected a RateLimitStore (name, reserve, complete, penalize)' });
  }
  return issues.filter((i): i is ValidationIssue => i !== undefined);
}
