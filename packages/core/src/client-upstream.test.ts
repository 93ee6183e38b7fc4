// What comes back from upstream is untrusted text: an upstream that echoes the request URL must not leak the
// UserSig into errors, hooks or logs; codes that must not be retried are not.
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput } from '../../../testing/secret-scan.setup';
import { startTestServer, type TestServer } from '../test/server';
import { text } from './builders';
import { createBroadcastClient, type BroadcastClient, type BroadcastClientOptions } from './client';
import { ApiError } from './errors/classes';

const creds = { sdkAppId: 1400000001, secretKey: 'client-upstream-secret-DO-NOT-LEAK', identifier: 'administrator' };

let server: TestServer;
const clients: BroadcastClient[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => server.close());

/** A client whose hooks and logger write into `seen`, as text. */
function observedClient(seen: string[], options: Partial<BroadcastClientOptions> = {}): BroadcastClient {
  const keep = (value: unknown) => seen.push(typeof value === 'string' ? value : inspect(value, { depth: 8 }));
  const c = createBroadcastClient({
    ...creds,
    baseUrl: server.url,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    hooks: { onRequest: keep, onResponse: keep, onRetry: keep },
    logger: { debug: (m, meta) => keep([m, meta]), warn: (m, meta) => keep([m, meta]), error: (m, meta) => keep([m, meta]) },
    ...options,
  } as BroadcastClientOptions);
  clients.push(c);
  return c;
}

describe('upstream text is redacted', () => {
  it('an ErrorInfo echoing the request URL reaches errors, hooks and logs with usersig=[redacted]', async () => {
    const seen: string[] = [];
    const before = server.seen.length;
    // 10002 is retried (onRetry, logger.warn), then 10004 fails the call (the error)
    server.script({ code: 10002, echoUrl: true }, { code: 10004, echoUrl: true });
    const err = await observedClient(seen).broadcast({ MsgBody: [text('x')] }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ApiError);
    const sig = server.seen[before]!.query.get('usersig')!;
    expect(sig.length).toBeGreaterThan(20);

    const texts = [...seen, (err as ApiError).info, (err as ApiError).message, String(err), inspect(err, { depth: 8 }), JSON.stringify(err)];
    recordOutput(...texts);
    // the echo really arrived (the test would be empty otherwise) and was redacted everywhere
    expect((err as ApiError).info).toMatch(/^upstream refused POST \/v4\/group_open_http_svc\/send_broadcast_msg\?sdkappid=1400000001&identifier=administrator&usersig=\[redacted\]&random=\d+/);
    expect(seen.filter((t) => t.includes('usersig=[redacted]&random=')).length).toBeGreaterThanOrEqual(3); // onResponse ×2, onRetry, warn
    for (const t of texts) expect(t).not.toContain(sig);
  });
});

describe('codes that must not be retried', () => {
  it('70050 (UserSig checks locked for about a minute) fails at once with the hint', async () => {
    const before = server.seen.length;
    server.script({ code: 70050, info: 'too many failed signature checks' });
    const err = await observedClient([], { retry: { attempts: 5 } }).broadcast({ MsgBody: [text('x')] }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 70050, category: 'auth', retryable: false, attempts: 1 });
    expect((err as Error).message).toMatch(/locked for about a minute/);
    expect(server.seen.length - before).toBe(1);
  });

  it.each([10016, 10017, 10019, 70107, 70398])('%i fails at once with a catalogued hint', async (code) => {
    const before = server.seen.length;
    server.script({ code });
    const err = await observedClient([]).broadcast({ MsgBody: [text('x')] }).catch((e: Error) => e);
    expect(err).toMatchObject({ code, retryable: false, attempts: 1 });
    expect((err as ApiError).category).not.toBe('unknown');
    expect(server.seen.length - before).toBe(1);
  });
});
