import { describe, expect, it } from 'vitest';
import {
  closestName,
  MAX_TIMER_MS,
  numberIssue,
  signalIssue,
  TimBroadcastError,
  TransportError,
  unknownOptionIssues,
  ValidationError,
} from '@tim-broadcast/transport';

describe('option checks', () => {
  it('names the closest known option for a misspelt key', () => {
    const known = ['timeoutMs', 'deadlineMs', 'retry', 'coalesce', 'rateLimit', 'shutdownTimeoutMs'];
    expect(closestName('timeout', known)).toBe('timeoutMs');
    expect(closestName('coalesc', known)).toBe('coalesce');
    expect(closestName('ratelimit', known)).toBe('rateLimit');
    expect(closestName('retries', known)).toBe('retry');
    expect(closestName('shutdownTimeout', known)).toBe('shutdownTimeoutMs');
    expect(closestName('zzzzzzzz', known)).toBeUndefined();
    const issues = unknownOptionIssues({ timeoutMs: 1, timeout: 2 }, known, ['rateLimit']);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toEqual(['rateLimit', 'timeout']);
    expect(issues[0]!.message).toMatch(/^unknown option \(did you mean 'timeoutMs'\?\)/);
  });

  it('refuses numbers a timer cannot take', () => {
    for (const bad of [Infinity, NaN, -1, MAX_TIMER_MS + 1, '10', null]) {
      expect(numberIssue(bad, ['timeoutMs'], 'ms'), String(bad)).toMatchObject({ path: ['timeoutMs'] });
    }
    expect(numberIssue(MAX_TIMER_MS, ['timeoutMs'], 'ms')).toBeUndefined();
    expect(numberIssue(undefined, ['timeoutMs'], 'ms')).toBeUndefined();
    expect(numberIssue(0, ['timeoutMs'], 'ms', { minInclusive: false })?.message).toMatch(/> 0 ms/);
    expect(numberIssue(1.5, ['attempts'], 'count')?.message).toMatch(/an integer/);
  });

  it('checks signals', () => {
    expect(signalIssue(new AbortController().signal)).toBeUndefined();
    expect(signalIssue({ aborted: false })).toMatchObject({ path: ['signal'] });
  });

  it('every SDK error extends TimBroadcastError', () => {
    for (const e of [new ValidationError('x', []), new TransportError('x')]) {
      expect(e).toBeInstanceOf(TimBroadcastError);
      expect(e).toBeInstanceOf(Error);
    }
    expect(new Error('plain')).not.toBeInstanceOf(TimBroadcastError);
    expect(new ValidationError('x', [])).not.toBeInstanceOf(TransportError);
  });
});
