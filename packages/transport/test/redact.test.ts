import { AbortError, redactUserSig, safeUrl, TimeoutError, TransportError } from '@tim-broadcast/transport';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { expectNoSecret, SECRET } from './helpers';

const URL_WITH_SECRET = `https://console.tim.qq.com/v4/group_open_http_svc/send_broadcast_msg?sdkappid=1&usersig=${SECRET}&random=9`;

describe('safeUrl', () => {
  it.each([
    [URL_WITH_SECRET, 'https://console.tim.qq.com/v4/group_open_http_svc/send_broadcast_msg'],
    ['http://user:pw@127.0.0.1:8080/a?b=1#frag', 'http://127.0.0.1:8080/a'],
    [`http://exa mple/p?usersig=${SECRET}`, 'http://exa mple/p'],
    [`http://user:pw@exa mple/p#x`, 'http://exa mple/p'],
    [`not a url?usersig=${SECRET}`, 'not a url'],
  ])('%s -> %s', (input, expected) => {
    expect(safeUrl(input)).toBe(expected);
  });
});

describe('redactUserSig', () => {
  it.each([
    [`a=1&usersig=${SECRET}&random=2`, 'a=1&usersig=[redacted]&random=2'],
    [`{"usersig": "${SECRET}"}`, '{"usersig": "[redacted]"}'],
    [`UserSig=${SECRET} rejected`, 'UserSig=[redacted] rejected'],
    [`usersig%3D${SECRET}`, 'usersig%3D[redacted]'],
    ['nothing to hide', 'nothing to hide'],
  ])('%s -> %s', (input, expected) => {
    expect(redactUserSig(input)).toBe(expected);
  });

  it('is idempotent', () => {
    const once = redactUserSig(`x?usersig=${SECRET}&a=1 "usersig": "${SECRET}"`);
    expect(redactUserSig(once)).toBe(once);
  });

  it('never throws, whatever it is given', () => {
    for (const bad of [undefined, null, 5, {}, []]) expect(redactUserSig(bad as never)).toBe('');
  });
});

describe('TransportError redaction', () => {
  it('redacts a usersig value that appears without a query string (an upstream body echoing it)', () => {
    const err = new TransportError(`proxy error: upstream said "usersig=${SECRET}" is bad`);
    expect(err.message).toBe('proxy error: upstream said "usersig=[redacted]" is bad');
    expectNoSecret(err);
  });

  it('keeps only origin and path of the URL and scrubs the message', () => {
    const err = new TransportError(`POST ${URL_WITH_SECRET} failed`, { url: URL_WITH_SECRET, status: 502 });
    expect(err.url).toBe('https://console.tim.qq.com/v4/group_open_http_svc/send_broadcast_msg');
    expect(err.message).toBe('POST https://console.tim.qq.com/v4/group_open_http_svc/send_broadcast_msg?[redacted] failed');
    expect(err.status).toBe(502);
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({ name: 'TransportError', url: err.url, status: 502 });
    expectNoSecret(err);
  });

  it('scrubs a cause chain but keeps its name, class, code and system fields', () => {
    const inner = Object.assign(new Error(`connect ECONNREFUSED while fetching ${URL_WITH_SECRET}`), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
      input: URL_WITH_SECRET,
      socket: { secretHolder: URL_WITH_SECRET },
    });
    const outer = new TypeError('fetch failed', { cause: inner });
    const err = new TransportError('request failed', { url: URL_WITH_SECRET, cause: outer });
    expect(err.code).toBe('ECONNREFUSED');
    const cause = err.cause as TypeError & { cause: Error & Record<string, unknown> };
    expect(cause).toBeInstanceOf(TypeError);
    expect(cause.message).toBe('fetch failed');
    expect(cause.cause).toMatchObject({ code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
    expect(cause.cause.input).toBe('https://console.tim.qq.com/v4/group_open_http_svc/send_broadcast_msg?[redacted]');
    expect(cause.cause.socket).toBeUndefined();
    expect(inspect(err, { depth: 10 })).toContain('ECONNREFUSED');
    expectNoSecret(err);
  });

  it('scrubs AggregateError members and non-Error causes', () => {
    const agg = new AggregateError([new Error(`a ${URL_WITH_SECRET}`), new Error('b')], '');
    const err = new TransportError('x', { url: URL_WITH_SECRET, cause: agg });
    expect((err.cause as AggregateError).errors).toHaveLength(2);
    expectNoSecret(err);
    expectNoSecret(new TransportError('y', { url: URL_WITH_SECRET, cause: `string ${URL_WITH_SECRET}` }));
  });

  it('TimeoutError and AbortError carry their extra facts', () => {
    const timeout = new TimeoutError(250, { url: URL_WITH_SECRET });
    expect(timeout).toMatchObject({ name: 'TimeoutError', timeoutMs: 250, code: 'ETIMEDOUT', message: 'request timed out after 250 ms' });
    const reason = { why: 'shutdown' };
    const abort = new AbortError({ url: URL_WITH_SECRET, cause: reason });
    expect(abort).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(abort.cause).toBe(reason);
    expect(new AbortError()).not.toHaveProperty('cause');
    expectNoSecret(timeout);
  });
});
