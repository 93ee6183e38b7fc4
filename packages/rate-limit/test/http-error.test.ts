import { AbortError, ApiError, QueueClosedError, QueueFullError, TimBroadcastError, TimeoutError, TransportError, ValidationError } from '@tim-broadcast/core';
import { httpErrorResponse, LimiterClosedError, StoreError, type HttpErrorDescription } from '@tim-broadcast/rate-limit';
import { describe, expect, it } from 'vitest';

// The one error → HTTP mapping of the Express router and the Nest filter (both suites test it over real HTTP too).
const broadcaster = (queued: number, inFlight: number, ratePerSecond?: number) => ({
  health: () => ({ queued, inFlight, limiter: ratePerSecond === undefined ? undefined : { ratePerSecond } }),
});

class Described extends TimBroadcastError {
  constructor(readonly http: unknown) {
    super('described error');
  }
}

describe('httpErrorResponse', () => {
  it('maps each SDK error class', () => {
    const cases: [unknown, number, string][] = [
      [new ValidationError('bad', [{ path: ['MsgBody', 0, 'MsgContent', 'Text'], message: 'expected string' }]), 400, 'invalid_request'],
      [new QueueFullError(10), 429, 'queue_full'],
      [new QueueClosedError(), 503, 'shutting_down'],
      [new LimiterClosedError(), 503, 'shutting_down'],
      [new StoreError('redis', 'connection refused'), 503, 'rate_limit_unavailable'],
      [new ApiError(10007, 'no permission'), 502, 'upstream_error'],
      [new TimeoutError(300), 504, 'upstream_timeout'],
      [new TransportError('connect ECONNREFUSED', { code: 'ECONNREFUSED' }), 502, 'upstream_unreachable'],
    ];
    for (const [err, status, error] of cases) expect(httpErrorResponse(err)).toMatchObject({ status, body: { error } });
  });

  it('writes ValidationError paths as strings and keeps ApiError details', () => {
    const invalid = httpErrorResponse(new ValidationError('bad', [{ path: ['MsgBody', 0, 'MsgContent', 'Text'], message: 'expected string' }]));
    expect(invalid!.body.issues).toEqual([{ path: 'MsgBody[0].MsgContent.Text', message: 'expected string' }]);
    expect(httpErrorResponse(new ApiError(10007, 'no permission'))!.body).toMatchObject({ code: 10007, info: 'no permission', category: 'config' });
  });

  it('estimates Retry-After of a full queue from the broadcaster that refused', () => {
    expect(httpErrorResponse(new QueueFullError(10))!.headers).toEqual({ 'retry-after': '1' });
    expect(httpErrorResponse(new QueueFullError(10), { broadcaster: broadcaster(9, 1, 2) })!.headers).toEqual({ 'retry-after': '5' });
    expect(httpErrorResponse(new QueueFullError(10), { broadcaster: broadcaster(9, 1) })!.body.retryAfterSeconds).toBe(1);
    expect(httpErrorResponse(new StoreError('redis', 'down'))!.headers).toEqual({ 'retry-after': '1' });
  });

  it('leaves other errors, and an aborted call, to the caller (undefined)', () => {
    for (const err of [new Error('x'), new TypeError('y'), 'text', undefined, new AbortError(), new TimBroadcastError('plain')]) expect(httpErrorResponse(err)).toBeUndefined();
    // the protocol is for SDK errors only
    expect(httpErrorResponse(Object.assign(new Error('not ours'), { http: { status: 418, error: 'teapot' } }))).toBeUndefined();
  });

  it('answers an SDK error of another package as its http description says', () => {
    const description: HttpErrorDescription = { status: 409, error: 'delivery_failed', message: 'the broadcast failed for good', retryAfterSeconds: 30, details: { id: 'b-1', attempts: 5, final: true, note: null } };
    expect(httpErrorResponse(new Described(description))).toEqual({
      status: 409,
      body: { error: 'delivery_failed', message: 'the broadcast failed for good', id: 'b-1', attempts: 5, final: true, note: null, retryAfterSeconds: 30 },
      headers: { 'retry-after': '30' },
    });
    expect(httpErrorResponse(new Described({ status: 503, error: 'outbox_unavailable' }))!.body).toEqual({ error: 'outbox_unavailable', message: 'described error' });
  });

  it('drops what a description may not carry, and ignores a malformed one', () => {
    const loose = httpErrorResponse(new Described({ status: 503, error: 'x_y', details: { error: 'overridden', message: 'overridden', nested: { a: 1 }, fn: () => 1, ok: 'yes' }, retryAfterSeconds: 1.5 }));
    expect(loose).toEqual({ status: 503, body: { error: 'x_y', message: 'described error', ok: 'yes' }, headers: {} });
    for (const bad of [undefined, 'string', { status: 200, error: 'ok' }, { status: 600, error: 'x' }, { status: 404.5, error: 'x' }, { status: 404, error: 'Not Found' }, { status: 404 }]) {
      expect(httpErrorResponse(new Described(bad))).toBeUndefined();
    }
  });
});
