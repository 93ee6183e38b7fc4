import { text, ValidationError, formatPath, type Transport } from '@tim-broadcast/core';
import { startEmulator, type Emulator } from '@tim-broadcast/emulator';
import {
  createBroadcastRegistry,
  CredentialsError,
  httpErrorResponse,
  RegistryFullError,
  type AppCredentials,
  type BroadcastRegistry,
  type BroadcastRegistryOptions,
} from '@tim-broadcast/rate-limit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput } from '../../../testing/secret-scan.setup';
import { connectionsNamed, REDIS_URL, rejection, uniqueKey, until } from './helpers';

// Apps 1400000101.. with a key each; the emulator serves all of them, each at 1 call/s (strict spacing).
const APP_IDS = [1400000101, 1400000102, 1400000103, 1400000104, 1400000105];
const secretOf = (sdkAppId: number) => `registry-test-secret-${sdkAppId}-0123456789abcdef`;
const emulatorApps = APP_IDS.map((sdkAppId) => ({ sdkAppId, secretKey: secretOf(sdkAppId), admin: 'administrator' }));

let emu: Emulator;
let redis: Redis;
const registries: BroadcastRegistry[] = [];

beforeAll(async () => {
  emu = await startEmulator({ ...emulatorApps[0]!, apps: emulatorApps.slice(1), ratePerSecond: 1, rateModel: 'spacing' });
  redis = new Redis(REDIS_URL, { connectionName: 'registry-test' });
});
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
  emu.reset();
});
afterAll(async () => {
  await redis.quit();
  await emu.close();
});

/** Credentials of the emulator's apps, counting the calls. */
function provider(overrides: (sdkAppId: number) => Partial<AppCredentials> | undefined = () => ({})) {
  const calls: number[] = [];
  const credentials = async (sdkAppId: number): Promise<AppCredentials | undefined> => {
    calls.push(sdkAppId);
    if (!APP_IDS.includes(sdkAppId)) return undefined;
    return { secretKey: secretOf(sdkAppId), identifier: 'administrator', baseUrl: emu.url, ...overrides(sdkAppId) };
  };
  return { calls, credentials };
}

function registry(options: Partial<BroadcastRegistryOptions> = {}): BroadcastRegistry {
  const r = createBroadcastRegistry({
    credentials: provider().credentials,
    redis,
    // a fresh schedule per test: keys no other run uses, still ending with the SDKAppID
    limiterKey: keyPrefix(),
    logger: {},
    defaults: { retry: false },
    ...options,
  });
  registries.push(r);
  return r;
}

function keyPrefix() {
  const prefix = uniqueKey('registry');
  return (sdkAppId: number) => `${prefix}:${sdkAppId}`;
}

const message = (n: number) => ({ MsgBody: [text(`broadcast ${n}`)] });

describe('createBroadcastRegistry', () => {
  it('gives each app its own limit: two apps at 1 call/s deliver 2 calls/s together, no 10023', async () => {
    const r = registry({ defaults: { retry: false, rateLimit: { ratePerSecond: 1 } } });
    const [a, b] = APP_IDS;
    const sends = [1, 2, 3].flatMap((n) => [r.send(a!, message(n)), r.send(b!, message(n))]);
    const results = await Promise.all(sends);
    expect(results.every((x) => x.MsgSeq > 0)).toBe(true);
    expect(emu.stats.rejected).toEqual({});
    expect([emu.appStats(a!)?.accepted, emu.appStats(b!)?.accepted]).toEqual([3, 3]);
    // each app's own calls are spaced by its limit...
    expect(emu.appStats(a!)!.minGapMs).toBeGreaterThanOrEqual(1000);
    expect(emu.appStats(b!)!.minGapMs).toBeGreaterThanOrEqual(1000);
    // ...and the two apps' calls are not: a limit shared by accident would keep every two deliveries ≥ 1 s apart
    const at = emu.deliveries.map((d) => d.at);
    const closePairs = at.slice(1).filter((t, i) => t - at[i]! < 1000).length;
    expect(closePairs).toBeGreaterThanOrEqual(1);
  });

  it('shares one pub/sub connection between every app waiting for its limit', async () => {
    await until(async () => (await connectionsNamed(redis, 'registry-test')) === 1, 15_000, 'one connection'); // earlier tests' subscribers gone
    // two replicas of the service (same Redis, same keys): each app's calls wait for the other replica's, watching the store
    const limiterKey = keyPrefix();
    const [r1, r2] = [registry({ limiterKey }), registry({ limiterKey })];
    await Promise.all(APP_IDS.flatMap((id) => [r1.send(id, message(1)), r2.send(id, message(2)), r1.send(id, message(3)), r2.send(id, message(4))]));
    expect(emu.stats.accepted).toBe(4 * APP_IDS.length);
    expect(emu.stats.rejected).toEqual({});
    expect(await connectionsNamed(redis, 'registry-test')).toBeLessThanOrEqual(3); // your client and at most one subscriber per registry, for five apps
    expect(await connectionsNamed(redis, 'registry-test')).toBeGreaterThan(1);
    await Promise.all([r1.close(), r2.close()]);
    await until(async () => (await connectionsNamed(redis, 'registry-test')) === 1, 15_000, 'one connection'); // the subscribers are closed; the client is yours
  });

  it('makes one broadcaster per app, once, however many first calls arrive together', async () => {
    const { calls, credentials } = provider();
    const r = registry({ credentials });
    const got = await Promise.all(Array.from({ length: 5 }, () => r.get(APP_IDS[0]!)));
    expect(new Set(got).size).toBe(1);
    expect(calls).toEqual([APP_IDS[0]]);
    expect(r.has(APP_IDS[0]!)).toBe(true);
    expect(r.size).toBe(1);
    expect(got[0]!.client.sdkAppId).toBe(APP_IDS[0]);
  });

  it('shares the transport it is given, and leaves it open', async () => {
    const { fetchTransport } = await import('@tim-broadcast/core');
    const inner = fetchTransport();
    const seen: string[] = [];
    let closed = false;
    const transport: Transport = {
      send: (req) => (seen.push(new URL(req.url).searchParams.get('sdkappid')!), inner.send(req)),
      close: async () => void (closed = true),
    };
    const r = registry({ transport });
    await Promise.all([r.send(APP_IDS[0]!, message(1)), r.send(APP_IDS[1]!, message(1))]);
    expect(seen.sort()).toEqual([String(APP_IDS[0]), String(APP_IDS[1])]);
    await r.close();
    expect(closed).toBe(false);
  });

  describe('credentials', () => {
    it('a provider failure is a CredentialsError, answered at once until the backoff passes, then asked again', async () => {
      let fail = true;
      const calls: number[] = [];
      const r = registry({
        credentialsRetry: { baseDelayMs: 150, maxDelayMs: 1_000 },
        credentials: async (sdkAppId) => {
          calls.push(sdkAppId);
          if (fail) throw new Error('secrets manager unreachable');
          return { secretKey: secretOf(sdkAppId), identifier: 'administrator', baseUrl: emu.url };
        },
      });
      const id = APP_IDS[0]!;
      const first = await rejection(r.send(id, message(1)));
      expect(first).toBeInstanceOf(CredentialsError);
      expect(first).toMatchObject({ sdkAppId: id, reason: 'failed', failures: 1 });
      expect(first.message).toMatch(/secrets manager unreachable.*nothing was sent/);
      expect(httpErrorResponse(first)).toMatchObject({ status: 503, body: { error: 'credentials_unavailable' }, headers: { 'retry-after': '1' } });
      // within the backoff: the same verdict, the provider not asked
      const again = await rejection(r.send(id, message(1)));
      expect(again).toBeInstanceOf(CredentialsError);
      expect(calls).toEqual([id]);
      expect(r.health()).toMatchObject({ failing: 1, apps: 0 });
      // after it: asked again, and this time it answers
      fail = false;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await expect(r.send(id, message(1))).resolves.toMatchObject({ batchSize: 1 });
      expect(calls).toEqual([id, id]);
      expect(r.health()).toMatchObject({ failing: 0, apps: 1 });
      expect(emu.stats.accepted).toBe(1);
    });

    it('doubles the backoff with each failure in a row, up to maxDelayMs', async () => {
      const r = registry({ credentialsRetry: { baseDelayMs: 20, maxDelayMs: 50 }, credentials: () => Promise.reject(new Error('down')) });
      const failures: number[] = [];
      const delays: number[] = [];
      for (let i = 0; i < 4; i++) {
        const err = (await rejection(r.get(APP_IDS[0]!))) as CredentialsError;
        const delay = err.retryAt.getTime() - Date.now();
        failures.push(err.failures);
        delays.push(delay);
        await new Promise((resolve) => setTimeout(resolve, delay + 5));
      }
      expect(failures).toEqual([1, 2, 3, 4]);
      // 20, 40, then capped at 50 (read just after each failure, so a little less)
      expect(delays[1]).toBeGreaterThan(delays[0]! + 10);
      expect(Math.max(...delays)).toBeLessThanOrEqual(50);
    });

    it('bounds a provider that never answers (credentialsTimeoutMs), and tells it through its signal', async () => {
      let signal: AbortSignal | undefined;
      const r = registry({ credentialsTimeoutMs: 50, credentials: (_id, context) => ((signal = context.signal), new Promise<never>(() => {})) });
      const err = await rejection(r.get(APP_IDS[0]!));
      expect(err).toMatchObject({ name: 'CredentialsError', reason: 'timeout' });
      expect(err.message).toMatch(/did not answer within 50 ms/);
      expect(signal?.aborted).toBe(true);
    });

    it('an app the provider does not know: CredentialsError unknown-app, answered 404', async () => {
      const r = registry();
      const err = await rejection(r.send(1400009999, message(1)));
      expect(err).toMatchObject({ name: 'CredentialsError', reason: 'unknown-app', sdkAppId: 1400009999 });
      expect(httpErrorResponse(err)).toMatchObject({ status: 404, body: { error: 'unknown_app' } });
    });

    it('invalid credentials: named field by field (with the closest name), never echoing the secret', async () => {
      const secret = 'do-not-echo-this-secret-0123456789';
      const lines: string[] = [];
      const r = registry({
        logger: { warn: (...args: unknown[]) => lines.push(JSON.stringify(args)) },
        credentials: async () => ({ secretKey: secret, identifier: 42, region: 'atlantis', ratePerSecnd: 5 }) as never,
      });
      const err = (await rejection(r.get(APP_IDS[0]!))) as CredentialsError;
      expect(err).toMatchObject({ name: 'CredentialsError', reason: 'invalid' });
      expect((err.cause as ValidationError).issues.map((i) => formatPath(i.path))).toEqual(['ratePerSecnd']);
      expect(err.message).toMatch(/did you mean 'ratePerSecond'/);
      const bad = registry({ credentials: async () => ({ secretKey: secret, identifier: 42, region: 'atlantis', ratePerSecond: 0 }) as never });
      const err2 = (await rejection(bad.get(APP_IDS[0]!))) as CredentialsError;
      expect((err2.cause as ValidationError).issues.map((i) => formatPath(i.path)).sort()).toEqual(['identifier', 'ratePerSecond', 'region']);
      recordOutput(err, err2, ...lines);
      for (const text of [err.message, err2.message, String(err2.cause), ...lines]) expect(text).not.toContain(secret);
      expect(lines.length).toBe(1);
    });

    it('refuses a limiter key two apps could share', async () => {
      for (const limiterKey of [() => 'one-key-for-all', (id: number) => `app:${id}0`, (id: number) => `app:${id % 7}`, (id: number) => `{tag}${id}`]) {
        const r = registry({ limiterKey });
        const err = await rejection(r.get(APP_IDS[0]!));
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).issues[0]!.path).toEqual(['limiterKey']);
      }
      const ok = registry({ limiterKey: keyPrefix() });
      await expect(ok.get(APP_IDS[0]!)).resolves.toBeDefined();
    });
  });

  describe('idle apps and the bound', () => {
    it('evicts an app idle for idleTimeoutMs, after it delivered everything it had queued', async () => {
      const { calls, credentials } = provider();
      const r = registry({ credentials, idleTimeoutMs: 100 });
      const id = APP_IDS[0]!;
      // three broadcasts at 1/s: the app is busy for about two seconds, far longer than its idle timeout
      const results = await Promise.all([1, 2, 3].map((n) => r.send(id, message(n))));
      expect(results).toHaveLength(3);
      const broadcaster = await r.get(id);
      await until(() => !r.has(id), 15_000, 'the idle app to be evicted');
      expect(broadcaster.health().status).toBe('down'); // closed
      expect(emu.appStats(id)!.accepted).toBe(3);
      // used again: made again, from fresh credentials
      await r.send(id, message(4));
      expect(calls).toEqual([id, id]);
    });

    it('evict() drains what is queued before closing', async () => {
      const r = registry();
      const id = APP_IDS[1]!;
      const sends = [1, 2, 3].map((n) => r.send(id, message(n)));
      await until(() => r.has(id), 15_000, 'the app to be made');
      await r.evict(id);
      expect((await Promise.all(sends)).map((x) => x.batchSize)).toEqual([1, 1, 1]);
      expect(r.has(id)).toBe(false);
      expect(emu.appStats(id)!.accepted).toBe(3);
    });

    it('holds at most maxApps: a new app evicts the least recently used idle one, or fails when none is idle', async () => {
      const r = registry({ maxApps: 2 });
      const [a, b, c] = APP_IDS;
      await r.get(a!);
      await r.get(b!);
      await r.get(a!); // b is now the least recently used
      await r.get(c!);
      expect([r.has(a!), r.has(b!), r.has(c!)]).toEqual([true, false, true]);
      // a and c busy: a third app cannot come in
      const busy = [r.send(a!, message(1)), r.send(a!, message(2)), r.send(c!, message(1)), r.send(c!, message(2))];
      await new Promise((resolve) => setImmediate(resolve)); // the sends have reached the apps' queues
      const err = await rejection(r.get(b!));
      expect(err).toBeInstanceOf(RegistryFullError);
      expect(httpErrorResponse(err)).toMatchObject({ status: 503, body: { error: 'registry_full' } });
      await Promise.all(busy);
    });
  });

  describe('close()', () => {
    it('drains every app, then refuses calls; the Redis client it made from a URL, and its subscriber, are closed', async () => {
      const url = new URL(REDIS_URL);
      const name = uniqueKey('registry-url').replace(/[^\w-]/g, '-');
      url.searchParams.set('connectionName', name);
      const limiterKey = keyPrefix();
      // another replica on the same keys, so that the registry's apps wait on the store (and subscribe)
      const replica = registry({ limiterKey });
      const r = createBroadcastRegistry({ credentials: provider().credentials, redis: url.href, limiterKey, logger: {} });
      const ids = APP_IDS.slice(0, 3);
      const sends = ids.flatMap((id) => [r.send(id, message(1)), r.send(id, message(2))]);
      const others = ids.map((id) => replica.send(id, message(3)));
      await until(() => r.size === 3, 15_000, 'three apps');
      await until(async () => (await connectionsNamed(redis, name)) === 2, 15_000, 'two connections'); // the store's client and its subscriber
      await r.close();
      expect((await Promise.allSettled(sends)).every((s) => s.status === 'fulfilled')).toBe(true);
      await Promise.all(others);
      expect(emu.stats.accepted).toBe(9);
      await until(async () => (await connectionsNamed(redis, name)) === 0, 15_000, 'no connections');
      expect(await rejection(r.send(APP_IDS[0]!, message(3)))).toMatchObject({ name: 'QueueClosedError' });
      expect(r.health().status).toBe('down');
      await r.close(); // idempotent
    });

    it('stops waiting for credentials at close()', async () => {
      const r = registry({ credentials: () => new Promise<never>(() => {}) });
      const pending = rejection(r.get(APP_IDS[0]!));
      await r.close();
      expect(await pending).toMatchObject({ name: 'QueueClosedError' });
    });
  });

  describe('options', () => {
    it.each<[string, Record<string, unknown>, string[]]>([
      ['no provider', { credentials: undefined }, ['credentials']],
      ['a misspelt option', { credential: () => undefined }, ['credential']],
      ['a per-app option among the defaults', { defaults: { secretKey: 'x' } }, ['defaults.secretKey']],
      ['a shared option among the defaults', { defaults: { transport: {} } }, ['defaults.transport']],
      ['redis among the rate-limit defaults', { defaults: { rateLimit: { redis: 'redis://x' } } }, ['defaults.rateLimit.redis']],
      ['a bad default', { defaults: { retry: { attempts: 0 }, maxQueued: -1 } }, ['defaults.maxQueued', 'defaults.retry.attempts']],
      ['a bad rate-limit default', { defaults: { rateLimit: { ratePerSecond: 0 } } }, ['defaults.rateLimit.ratePerSecond']],
      ['a bad bound', { maxApps: 0, idleTimeoutMs: Infinity, credentialsTimeoutMs: -1 }, ['idleTimeoutMs', 'maxApps', 'credentialsTimeoutMs']],
      ['a key that is not a function', { limiterKey: 'prefix' }, ['limiterKey']],
      ['a Redis that is not one', { redis: 'http://localhost' }, ['redis']],
    ])('refuses %s, naming it', (_name, patch, paths) => {
      let err: unknown;
      try {
        createBroadcastRegistry({ credentials: () => undefined, ...patch } as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues.map((i) => formatPath(i.path)).sort()).toEqual([...paths].sort());
    });

    it('names the closest option', () => {
      expect(() => createBroadcastRegistry({ credentials: () => undefined, maxApp: 3 } as never)).toThrow(/maxApp: unknown option \(did you mean 'maxApps'\?\)/);
    });

    it('refuses a bad SDKAppID or request before asking for credentials', async () => {
      const { calls, credentials } = provider();
      const r = registry({ credentials });
      expect(await rejection(r.get(-1))).toBeInstanceOf(ValidationError);
      expect(await rejection(r.send(APP_IDS[0]!, { MsgBody: [] }))).toBeInstanceOf(ValidationError);
      expect(calls).toEqual([]);
    });
  });
});
