// createBroadcastClient (core) against the emulator: the client's retry, dedup and failover promises, end to end.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, createBroadcastClient, TimeoutError, text, custom, type BroadcastClientOptions } from '@tim-broadcast/core';
import { undiciTransport } from '@tim-broadcast/transport/undici';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/index';
import { recordOutput } from '../../../testing/secret-scan.setup';

const APP = { sdkAppId: 1400000077, secretKey: 'integration-secret-0123456789', admin: 'administrator' };
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function emulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  const emu = await startEmulator({ ...APP, ratePerSecond: Infinity, ...options });
  open.push(emu);
  return emu;
}

function client(emu: Emulator | string, options: Partial<BroadcastClientOptions> = {}) {
  const transport = undiciTransport();
  open.push(transport);
  const c = createBroadcastClient({
    sdkAppId: APP.sdkAppId,
    secretKey: APP.secretKey,
    identifier: APP.admin,
    baseUrl: typeof emu === 'string' ? emu : emu.url,
    transport,
    retry: { baseDelayMs: 5, maxDelayMs: 50, throttleDelayMs: 1000 },
    hooks: { onRequest: recordOutput, onResponse: recordOutput, onRetry: recordOutput },
    logger: { debug: recordOutput, warn: recordOutput, error: recordOutput },
    ...options,
  } as BroadcastClientOptions);
  return c;
}

describe('client ↔ emulator', () => {
  it('delivers a broadcast and reports the MsgSeq the emulator recorded', async () => {
    const emu = await emulator();
    const result = await client(emu).broadcast({ MsgBody: [text('hello'), custom({ Data: { n: 1 } })], From_Account: 'ops' });
    const [delivery] = emu.deliveries;
    expect(result).toEqual({ MsgSeq: delivery!.MsgSeq, Random: delivery!.Random, attempts: 1 });
    expect(delivery!.body).toEqual({ From_Account: 'ops', Random: result.Random, MsgBody: [text('hello'), custom({ Data: { n: 1 } })] });
  });

  it.each<[string, Partial<EmulatorOptions>, Partial<BroadcastClientOptions>, number, string]>([
    ['a non-admin identifier', {}, { identifier: 'someone' }, 60010, 'auth'],
    ['a key of another app', {}, { secretKey: 'not-the-key-0123456789' }, 70009, 'auth'],
    ['the broadcast switch off', { broadcastEnabled: false }, {}, 10007, 'config'],
    ['another SDKAppID', {}, { sdkAppId: 1400000078 }, 60006, 'config'],
  ])('fails at once for %s (%i)', async (_name, emuOptions, clientOptions, code, category) => {
    const emu = await emulator(emuOptions);
    const err = await client(emu, clientOptions).broadcast({ MsgBody: [text('x')] }).catch((e) => e);
    recordOutput(err);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code, category, attempts: 1 });
    expect(emu.stats.requests).toBe(1);
    expect(emu.deliveries).toHaveLength(0);
  });

  it('rides out 10023 from the 1 call/s limit without a limiter', async () => {
    const emu = await emulator({ ratePerSecond: 1 });
    const c = client(emu, { retry: { throttleDelayMs: 1100 } });
    const results = await Promise.all([c.broadcast({ MsgBody: [text('a')] }), c.broadcast({ MsgBody: [text('b')] })]);
    expect(results.map((r) => r.attempts).sort()).toEqual([1, 2]);
    expect(emu.deliveries).toHaveLength(2);
    expect(emu.stats.rejected[10023]).toBe(1);
    expect(emu.stats.minGapMs).toBeGreaterThanOrEqual(1000);
  });

  it.each([
    [['lostAnswer'], 2],
    [['http502', 'error10002', 'reset'], 4],
    [['lostAnswer', 'lostAnswer', 'http502'], 4],
  ] as const)('survives the faults %j with exactly one delivery', async (script, attempts) => {
    const emu = await emulator({ faults: { script: [...script] } });
    const result = await client(emu).broadcast({ MsgBody: [text('once')] });
    expect(result.attempts).toBe(attempts);
    expect(emu.deliveries).toHaveLength(1);
    expect(emu.deliveries[0]!.MsgSeq).toBe(result.MsgSeq);
    expect(emu.stats.duplicates).toBe(script.filter((k) => k === 'lostAnswer').length);
  });

  it('times out a slow answer, retries, and still delivers once', async () => {
    const emu = await emulator({ faults: { script: ['slow'], slowMs: 2000 } });
    const result = await client(emu, { timeoutMs: 150 }).broadcast({ MsgBody: [text('slow')] });
    expect(result.attempts).toBe(2);
    expect(emu.deliveries).toHaveLength(1);
    expect(emu.deliveries[0]!.MsgSeq).toBe(result.MsgSeq);
  });

  it('reports a TimeoutError when every attempt is slow', async () => {
    const emu = await emulator({ faults: { rate: 1, kinds: ['slow'], slowMs: 2000 } });
    const err = await client(emu, { timeoutMs: 100, retry: { attempts: 2, baseDelayMs: 1 } }).broadcast({ MsgBody: [text('x')] }).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.attempts).toBe(2);
    expect(emu.deliveries).toHaveLength(1);
  });

  it('delivers 60 broadcasts exactly once through 30% random faults of every kind', async () => {
    const emu = await emulator({ faults: { rate: 0.3, seed: 42, slowMs: 400 } });
    const c = client(emu, { timeoutMs: 250, retry: { attempts: 12, baseDelayMs: 2, maxDelayMs: 20, throttleDelayMs: 20 } });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => c.broadcast({ MsgBody: [text(`m${i}`)] })));
    const delivered = emu.deliveries.map((d) => (d.body.MsgBody[0] as { MsgContent: { Text: string } }).MsgContent.Text).sort();
    expect(delivered).toEqual(Array.from({ length: 60 }, (_, i) => `m${i}`).sort());
    expect(new Set(results.map((r) => r.MsgSeq)).size).toBe(60);
    const faults = emu.stats.faults;
    expect(Object.values(faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  });

  it('re-signs once when the server says the UserSig expired', async () => {
    let offsetMs = 0;
    const emu = await emulator({
      clock: { now: () => Date.now() + offsetMs },
      onCall: (e) => {
        if (e.code === 70001) offsetMs = 0;
      },
    });
    let signs = 0;
    const c = client(emu, { secretKey: () => (signs++, APP.secretKey), userSigExpireSeconds: 120 });
    await c.broadcast({ MsgBody: [text('first')] });
    offsetMs = 10 * 60_000; // the server's clock jumps past the cached ticket's expiry
    const result = await c.broadcast({ MsgBody: [text('second')] });
    expect(result.attempts).toBe(2);
    expect(signs).toBe(2);
    expect(emu.stats.rejected[70001]).toBe(1);
    expect(emu.deliveries).toHaveLength(2);
  });

  it('fails over to the backup host when the primary refuses connections', async () => {
    const emu = await emulator();
    const dead = await new Promise<string>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(`http://127.0.0.1:${port}`));
      });
    });
    const result = await client(emu, { baseUrl: { primary: dead, backup: emu.url }, retry: { failoverAfter: 2, baseDelayMs: 1 } }).broadcast({
      MsgBody: [text('via backup')],
    });
    expect(result.attempts).toBe(3);
    expect(emu.deliveries).toHaveLength(1);
  });
});
