import { describe, expect, it } from 'vitest';
import { formatPath, ValidationError } from './errors/classes';
import { BROADCAST_PATH, REGIONS, buildRequestUrl, randomUint32, redactUrl, resolveEndpoint } from './regions';

describe('regions', () => {
  it('lists the 8 documented regions, each with an https primary and a my-imcloud.com backup', () => {
    expect(Object.keys(REGIONS).sort()).toEqual(['china', 'frankfurt', 'jakarta', 'mumbai', 'seoul', 'silicon-valley', 'singapore', 'tokyo']);
    for (const { primary, backup } of Object.values(REGIONS)) {
      expect(primary).toMatch(/^https:\/\/(console\.tim\.qq\.com|adminapi[a-z]+\.im\.qcloud\.com)$/);
      expect(backup).toMatch(/^https:\/\/adminapi[a-z]*\.my-imcloud\.com$/);
    }
    expect(resolveEndpoint({ region: 'singapore' })).toEqual({
      primary: 'https://adminapisgp.im.qcloud.com',
      backup: 'https://adminapisgp.my-imcloud.com',
    });
  });

  it('accepts a baseUrl string or a { primary, backup } pair', () => {
    expect(resolveEndpoint({ baseUrl: 'http://127.0.0.1:8080/' })).toEqual({ primary: 'http://127.0.0.1:8080' });
    expect(resolveEndpoint({ baseUrl: 'http://localhost:8080' })).toEqual({ primary: 'http://localhost:8080' });
    expect(resolveEndpoint({ baseUrl: 'http://[::1]:8080' })).toEqual({ primary: 'http://[::1]:8080' });
    expect(resolveEndpoint({ baseUrl: { primary: 'https://a.test/prefix', backup: 'https://b.test' } })).toEqual({
      primary: 'https://a.test/prefix',
      backup: 'https://b.test',
    });
    expect(resolveEndpoint({ baseUrl: { primary: 'http://a.test/prefix', backup: 'http://b.test' }, allowInsecureHttp: true })).toEqual({
      primary: 'http://a.test/prefix',
      backup: 'http://b.test',
    });
    // an http primary may fail over to https (never the other way)
    expect(resolveEndpoint({ baseUrl: { primary: 'http://127.0.0.1:1', backup: 'https://b.test' } }).backup).toBe('https://b.test');
  });

  it('says "region or baseUrl: required" when neither is given', () => {
    expect(() => resolveEndpoint({} as never)).toThrow(/region or baseUrl: required/);
  });

  it.each([
    [{ region: 'mars' }, 'region'],
    [{}, 'region'],
    [{ baseUrl: 'ftp://x' }, 'baseUrl'],
    [{ baseUrl: 'http://x/?usersig=1' }, 'baseUrl'],
    [{ baseUrl: 'not a url' }, 'baseUrl'],
    [{ baseUrl: { primary: 'http://127.0.0.1', backup: 5 } }, 'baseUrl.backup'],
    [{ region: 'tokyo', baseUrl: 'http://a' }, 'baseUrl'],
    // query or fragment markers of any kind, even empty ones
    [{ baseUrl: 'http://127.0.0.1:8080?' }, 'baseUrl'],
    [{ baseUrl: 'http://127.0.0.1:8080/#' }, 'baseUrl'],
    [{ baseUrl: 'https://h.test/a?b' }, 'baseUrl'],
    [{ baseUrl: { primary: 'https://h.test', backup: 'https://b.test/?' } }, 'baseUrl.backup'],
    // credentials of any kind
    [{ baseUrl: 'https://user@h.test' }, 'baseUrl'],
    [{ baseUrl: 'https://:pw-s3cret@h.test' }, 'baseUrl'],
    [{ baseUrl: 'https://user:pw-s3cret@h.test' }, 'baseUrl'],
    [{ baseUrl: 'https://@h.test' }, 'baseUrl'],
    [{ baseUrl: { primary: 'https://:pw-s3cret@h.test' } }, 'baseUrl.primary'],
    // clear-text http off loopback, and https failing over to http
    [{ baseUrl: 'http://api.example.test' }, 'baseUrl'],
    [{ baseUrl: 'http://10.0.0.1:8080' }, 'baseUrl'],
    [{ baseUrl: { primary: 'https://h.test', backup: 'http://127.0.0.1:1' } }, 'baseUrl.backup'],
    [{ baseUrl: { primary: 'https://h.test', backup: 'http://b.test' }, allowInsecureHttp: true }, 'baseUrl.backup'],
    [{ baseUrl: { primary: 'https://h.test', bakup: 'https://b.test' } }, 'baseUrl.bakup'],
    [{ baseUrl: 'https://h.test', allowInsecureHttp: 'yes' }, 'allowInsecureHttp'],
    [null, '(root)'],
  ])('rejects %o naming %s', (options, path) => {
    let error: unknown;
    try {
      resolveEndpoint(options as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => formatPath(i.path))).toContain(path);
    // the URL is never echoed: it may hold a password
    expect((error as Error).message).not.toContain('pw-s3cret');
  });
});

describe('buildRequestUrl', () => {
  it('builds the documented URL with a fresh uint32 random per call', () => {
    const url = new URL(buildRequestUrl('https://adminapisgp.im.qcloud.com', { sdkAppId: 88888888, identifier: 'admin', userSig: 'a*b-c_' }));
    expect(url.pathname).toBe(BROADCAST_PATH);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      sdkappid: '88888888',
      identifier: 'admin',
      usersig: 'a*b-c_',
      random: expect.stringMatching(/^\d+$/),
      contenttype: 'json',
    });
    const randoms = new Set(Array.from({ length: 200 }, () => randomUint32()));
    expect(randoms.size).toBeGreaterThan(195);
    for (const r of randoms) expect(Number.isInteger(r) && r >= 0 && r <= 0xffffffff).toBe(true);
  });

  it('redacts the usersig for logs', () => {
    expect(redactUrl('https://h/v4/x?sdkappid=1&usersig=SECRET&random=2')).toBe('https://h/v4/x?sdkappid=1&usersig=[redacted]&random=2');
  });
});
