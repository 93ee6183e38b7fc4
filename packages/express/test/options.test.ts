import { ValidationError } from '@tim-broadcast/core';
import { bearerAuthorize, broadcastMiddleware, createBroadcastRouter, createHealthHandler, MAX_BODY_LIMIT } from '../src/index';
import { describe, expect, it } from 'vitest';
import { parseBodyLimit } from '../src/body';
import { issueMessages, validationError } from '../../../testing/validation';
import { ADMIN, createSeen, findLeaks, recordingLogger, SDK_APP_ID, SECRET_KEY, TOKEN } from './helpers';

/** The paths of the issues of the ValidationError `fn` throws. */
const issuesOf = (fn: () => unknown): string[] => validationError(fn).issues.map((issue) => issue.path.join('.'));

const base = { sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY, identifier: ADMIN, baseUrl: 'http://127.0.0.1:9' };

describe('broadcastMiddleware', () => {
  it('validates its options when it is created, naming each bad field', () => {
    expect(issuesOf(() => broadcastMiddleware({ ...base, sdkAppId: -1 }))).toContain('sdkAppId');
    expect(issuesOf(() => broadcastMiddleware({ ...base, rateLimit: { ratePerSecond: 0 } }))).toContain('rateLimit.ratePerSecond');
    expect(issuesOf(() => broadcastMiddleware({ ...base, secretKey: '' }))).toContain('secretKey');
  });

  it('never echoes the secret key in a validation error', () => {
    try {
      broadcastMiddleware({ ...base, sdkAppId: 'nope' as unknown as number });
      expect.unreachable();
    } catch (err) {
      expect(String((err as Error).message)).not.toContain(SECRET_KEY);
    }
  });

  it('shares one broadcaster between requests and closes it', async () => {
    const middleware = broadcastMiddleware(base);
    const seenBy: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      const req = {} as Parameters<typeof middleware>[0];
      middleware(req, {} as Parameters<typeof middleware>[1], () => seenBy.push((req as unknown as { broadcast: unknown }).broadcast));
    }
    expect(seenBy).toEqual([middleware.broadcaster, middleware.broadcaster]);
    await middleware.close();
    expect(middleware.broadcaster.health().status).toBe('down');
  });
});

describe('createBroadcastRouter', () => {
  it('refuses to be created without authentication', () => {
    expect(issuesOf(() => createBroadcastRouter({}))).toEqual(['authorize']);
    expect(issuesOf(() => createBroadcastRouter(undefined as never))).toEqual(['']);
  });

  it('refuses a short bearer token without echoing it', () => {
    try {
      createBroadcastRouter({ bearerToken: 'short-secret' });
      expect.unreachable();
    } catch (err) {
      expect((err as ValidationError).issues.map((i) => i.path.join('.'))).toEqual(['bearerToken']);
      expect((err as Error).message).not.toContain('short-secret');
    }
  });

  it('names every other bad option', () => {
    expect(issuesOf(() => createBroadcastRouter({ bearerToken: TOKEN, bodyLimit: 'lots' }))).toEqual(['bodyLimit']);
    expect(issuesOf(() => createBroadcastRouter({ authorize: 'yes' as never }))).toEqual(['authorize']);
    expect(issuesOf(() => createBroadcastRouter({ bearerToken: TOKEN, broadcast: {} as never }))).toEqual(['broadcast']);
    expect(issuesOf(() => createBroadcastRouter({ bearerToken: TOKEN, allowUnauthenticated: true }))).toEqual(['allowUnauthenticated']);
    expect(issuesOf(() => createBroadcastRouter({ allowUnauthenticated: 'yes' as never }))).toEqual(['allowUnauthenticated', 'authorize']);
  });

  it('allows unauthenticated use only when asked, with a warning', () => {
    const seen = createSeen();
    createBroadcastRouter({ allowUnauthenticated: true, logger: recordingLogger(seen) });
    expect(seen.logs).toHaveLength(1);
    expect(seen.logs[0]).toMatch(/^warn .*unauthenticated/);
    expect(findLeaks(seen)).toEqual([]);
  });
});

describe('createBroadcastRouter: every option checked', () => {
  it('refuses unknown option keys, naming the closest known one', () => {
    const [issue] = issueMessages(() => createBroadcastRouter({ bearerToken: TOKEN, bodylimit: '1kb' } as never));
    expect(issue).toMatch(/^bodylimit: unknown option \(did you mean 'bodyLimit'\?\)/);
    expect(issueMessages(() => createBroadcastRouter({ bearerToken: TOKEN, deadline: 5 } as never))[0]).toContain("did you mean 'deadlineMs'");
    expect(issueMessages(() => createBroadcastRouter({ bearer: TOKEN } as never))[0]).toContain("did you mean 'bearerToken'");
  });

  it('refuses a bearer token that could never match (whitespace or control characters), without echoing it', () => {
    for (const token of ['has a space in the middle', 'trailing-newline-123456\n', 'tab\tseparated-token-1234']) {
      const messages = issueMessages(() => createBroadcastRouter({ bearerToken: token }));
      expect(messages).toEqual([
        'bearerToken: must not contain whitespace or control characters: a bearer token is sent as one word, so it could never match',
      ]);
      expect(messages.join()).not.toContain(token.trim());
      expect(() => bearerAuthorize(token)).toThrow(ValidationError);
    }
  });

  it('refuses a body limit over 1 MiB', () => {
    for (const bodyLimit of [1e15, '2mb', MAX_BODY_LIMIT + 1]) {
      expect(issueMessages(() => createBroadcastRouter({ bearerToken: TOKEN, bodyLimit }))[0]).toMatch(/^bodyLimit: expected a number of bytes from 1 to 1048576/);
    }
    expect(() => createBroadcastRouter({ bearerToken: TOKEN, bodyLimit: '1mb' })).not.toThrow();
  });

  it('refuses a deadline a timer cannot take', () => {
    for (const deadlineMs of [0, -1, Infinity, NaN, 2 ** 31, '5000']) {
      expect(issueMessages(() => createBroadcastRouter({ bearerToken: TOKEN, deadlineMs: deadlineMs as number }))[0]).toMatch(/^deadlineMs: expected a finite number > 0 ms/);
    }
    expect(() => createBroadcastRouter({ bearerToken: TOKEN, deadlineMs: 1 })).not.toThrow();
  });

  it('refuses an app that is neither a name nor a function, or that is combined with broadcast', () => {
    expect(issueMessages(() => createBroadcastRouter({ bearerToken: TOKEN, app: 7 as never }))).toEqual(['app: expected an app name or a function (req) => name']);
    const middleware = broadcastMiddleware(base);
    expect(issueMessages(() => createBroadcastRouter({ bearerToken: TOKEN, app: 'eu', broadcast: middleware.broadcaster }))).toEqual(['app: cannot be combined with broadcast']);
    void middleware.close();
  });
});

describe('broadcastMiddleware({ apps })', () => {
  const eu = { ...base, sdkAppId: 1400000021 };
  const us = { ...base, sdkAppId: 1400000022 };

  it('takes each app\'s options and closes them all', async () => {
    const middleware = broadcastMiddleware({ apps: { eu, us }, defaultApp: 'eu' });
    expect(middleware.apps.names).toEqual(['eu', 'us']);
    expect(middleware.broadcaster).toBe(middleware.apps.get('eu'));
    expect(middleware.apps.get('us').client.sdkAppId).toBe(1400000022);
    await middleware.close();
    expect(middleware.apps.get('eu').health().status).toBe('down');
    expect(middleware.apps.get('us').health().status).toBe('down');
  });

  it('names each bad option by its path under apps', () => {
    expect(issuesOf(() => broadcastMiddleware({ apps: { eu, us: { ...us, sdkAppId: -1 } } }))).toEqual(['apps.us.sdkAppId']);
    expect(issuesOf(() => broadcastMiddleware({ apps: { eu, us: { ...us, rateLimit: { ratePerSecond: 0 } } } }))).toEqual(['apps.us.rateLimit.ratePerSecond']);
  });

  it('refuses options outside apps, a default that is not an app, no apps, bad names and one SDKAppID twice', () => {
    expect(issueMessages(() => broadcastMiddleware({ apps: { eu }, sdkAppId: 1 } as never))[0]).toMatch(/^sdkAppId: unknown option.*with apps, each app's options go inside apps\.<name>$/);
    expect(issueMessages(() => broadcastMiddleware({ apps: { eu }, default: 'eu' } as never))[0]).toContain("did you mean 'defaultApp'");
    expect(issueMessages(() => broadcastMiddleware({ apps: { eu }, defaultApp: 'us' }))).toEqual(['defaultApp: expected one of the names in apps (eu)']);
    expect(issueMessages(() => broadcastMiddleware({ apps: {} }))).toEqual(['apps: expected at least one app']);
    expect(issueMessages(() => broadcastMiddleware({ apps: { 'two words': eu } }))[0]).toMatch(/^apps\.two words: expected a name/);
    expect(issueMessages(() => broadcastMiddleware({ apps: { eu, again: { ...eu, region: undefined } } }))).toEqual([
      'apps.again.sdkAppId: the same SDKAppID as apps.eu: one app has one call-rate limit, so configure it once',
    ]);
  });
});

describe('createHealthHandler', () => {
  it('refuses unknown keys and app combined with broadcast', () => {
    expect(issuesOf(() => createHealthHandler({ ap: 'eu' } as never))).toEqual(['ap']);
    const middleware = broadcastMiddleware(base);
    expect(issuesOf(() => createHealthHandler({ app: 'eu', broadcast: middleware.broadcaster }))).toEqual(['app']);
    void middleware.close();
  });
});

describe('createHealthHandler', () => {
  it('checks the broadcaster it is given', () => {
    expect(issuesOf(() => createHealthHandler({ broadcast: {} as never }))).toEqual(['broadcast']);
  });
});

describe('parseBodyLimit', () => {
  it('reads bytes and kb/mb sizes', () => {
    expect(parseBodyLimit('64kb')).toBe(65_536);
    expect(parseBodyLimit('1MB')).toBe(1_048_576);
    expect(parseBodyLimit('1.5kb')).toBe(1_536);
    expect(parseBodyLimit('100')).toBe(100);
    expect(parseBodyLimit(2048)).toBe(2048);
  });

  it('refuses what is not a positive size', () => {
    for (const bad of ['lots', '', '-1kb', '0', 0, -5, 1.5, Infinity, null, '10gb']) expect(parseBodyLimit(bad)).toBeUndefined();
  });

  it('refuses sizes over 1 MiB', () => {
    expect(parseBodyLimit('1mb')).toBe(MAX_BODY_LIMIT);
    for (const bad of [1e15, MAX_BODY_LIMIT + 1, '1.01mb', '2mb', '1025kb', String(2 ** 60)]) expect(parseBodyLimit(bad)).toBeUndefined();
  });
});

describe('the leak detector used by the suites', () => {
  it('finds a planted secret key or UserSig', () => {
    const seen = createSeen();
    seen.userSigs.add('eJwtzF1PgzAUBuD-0nWNFoZ');
    seen.bodies.push('{"ok":true}');
    expect(findLeaks(seen)).toEqual([]);
    seen.logs.push('warn sent with usersig=eJwtzF1PgzAUBuD-0nWNFoZ');
    seen.bodies.push(`{"error":"${SECRET_KEY}"}`);
    expect(findLeaks(seen)).toHaveLength(2);
  });
});
