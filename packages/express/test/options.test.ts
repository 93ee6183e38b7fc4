import { ValidationError } from '@tim-broadcast/core';
import { broadcastMiddleware, createBroadcastRouter, createHealthHandler } from '../src/index';
import { describe, expect, it } from 'vitest';
import { parseBodyLimit } from '../src/body';
import { ADMIN, createSeen, findLeaks, recordingLogger, SDK_APP_ID, SECRET_KEY, TOKEN } from './helpers';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).issues.map((issue) => issue.path.join('.'));
  }
  throw new Error('expected a ValidationError');
}

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
