import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors/classes';
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
    expect(resolveEndpoint({ baseUrl: { primary: 'http://a.test/prefix', backup: 'http://b.test' } })).toEqual({
      primary: 'http://a.test/prefix',
      backup: 'http://b.test',
    });
  });

  it.each([
    [{ region: 'mars' }, 'region'],
    [{}, 'region'],
    [{ baseUrl: 'ftp://x' }, 'baseUrl'],
    [{ baseUrl: 'http://x/?usersig=1' }, 'baseUrl'],
    [{ baseUrl: 'not a url' }, 'baseUrl'],
    [{ baseUrl: { primary: 'http://a', backup: 5 } }, 'baseUrl.backup'],
    [{ region: 'tokyo', baseUrl: 'http://a' }, 'baseUrl'],
  ])('rejects %o naming %s', (options, path) => {
    expect(() => resolveEndpoint(options as never)).toThrow(ValidationError);
    try {
      resolveEndpoint(options as never);
    } catch (err) {
      expect((err as ValidationError).issues.map((i) => i.path.join('.'))).toContain(path);
    }
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
