import { inspect } from 'node:util';
import { deflateSync } from 'node:zlib';
import { Api } from 'tls-sig-api-v2';
import { describe, expect, it, vi } from 'vitest';
import vectors from '../../../../spec/fixtures/usersig-vectors.json';
import { ValidationError } from '../errors/classes';
import { encodeSigText } from './codec';
import { createUserSigSigner, signUserSig } from './sign';
import { decodeUserSig, verifyUserSig } from './verify';

const base = { sdkAppId: 1400000000, secretKey: 'test-secret-key-0123456789', identifier: 'administrator' };

describe('verifyUserSig', () => {
  it.each(vectors)('accepts the known-answer vector for $identifier at its own clock', (v) => {
    const check = verifyUserSig(v.userSig, { sdkAppId: v.sdkAppId, secretKey: v.key, identifier: v.identifier, now: v.time * 1000 });
    expect(check).toEqual({ valid: true, issuedAt: new Date(v.time * 1000), expiresAt: new Date((v.time + v.expire) * 1000) });
  });

  it.each(vectors)('rejects the vector for $identifier one second after it expires', (v) => {
    const check = verifyUserSig(v.userSig, { sdkAppId: v.sdkAppId, secretKey: v.key, identifier: v.identifier, now: (v.time + v.expire + 1) * 1000 });
    expect(check).toEqual({ valid: false, reason: 'expired', expiresAt: new Date((v.time + v.expire) * 1000) });
  });

  it('accepts a ticket made by the signer and one made by tls-sig-api-v2 directly', async () => {
    const ours = await createUserSigSigner(base).get();
    const theirs = new Api(base.sdkAppId, base.secretKey).genUserSig(base.identifier, 3600);
    for (const sig of [ours, theirs, signUserSig(base)]) {
      expect(verifyUserSig(sig, base)).toMatchObject({ valid: true });
    }
  });

  it('gives a typed reason for each kind of bad ticket', () => {
    const sig = signUserSig({ ...base, expireSeconds: 60 });
    expect(verifyUserSig(sig, { ...base, secretKey: 'another-key' })).toEqual({ valid: false, reason: 'bad-signature' });
    expect(verifyUserSig(sig, { ...base, identifier: 'someone' })).toEqual({ valid: false, reason: 'identifier-mismatch' });
    expect(verifyUserSig(sig, { ...base, sdkAppId: 1400000001 })).toEqual({ valid: false, reason: 'sdkappid-mismatch' });
    expect(verifyUserSig(sig, { ...base, now: Date.now() + 120_000 })).toMatchObject({ valid: false, reason: 'expired' });
    expect(verifyUserSig(sig.slice(0, 40), base)).toEqual({ valid: false, reason: 'undecodable' });
    expect(verifyUserSig('not a sig!', base)).toEqual({ valid: false, reason: 'undecodable' });
    expect(verifyUserSig('', base)).toEqual({ valid: false, reason: 'undecodable' });
  });

  it('detects a tampered document whose signature no longer matches', () => {
    const sig = signUserSig({ ...base, expireSeconds: 60 });
    const doc = decodeUserSig(sig)!;
    const forged = encodeSigText(deflateSync(JSON.stringify({ ...doc, 'TLS.expire': 10 ** 8 })));
    expect(verifyUserSig(forged, base)).toEqual({ valid: false, reason: 'bad-signature' });
    const flipped = encodeSigText(deflateSync(JSON.stringify({ ...doc, 'TLS.sig': Buffer.alloc(32).toString('base64') })));
    expect(verifyUserSig(flipped, base)).toEqual({ valid: false, reason: 'bad-signature' });
  });
});

describe('signUserSig input checks', () => {
  it.each([
    [{ sdkAppId: 0 }, 'sdkAppId'],
    [{ sdkAppId: -5 }, 'sdkAppId'],
    [{ sdkAppId: 1.5 }, 'sdkAppId'],
    [{ sdkAppId: '01400000000' }, 'sdkAppId'],
    [{ identifier: '' }, 'identifier'],
    [{ identifier: 'x'.repeat(33) }, 'identifier'],
    [{ identifier: 'é'.repeat(17) }, 'identifier'],
    [{ expireSeconds: 0 }, 'expireSeconds'],
    [{ expireSeconds: 1.5 }, 'expireSeconds'],
    [{ secretKey: '' }, 'secretKey'],
  ])('rejects %o naming %s', (patch, field) => {
    const err = catchError(() => signUserSig({ ...base, ...(patch as object) }));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path[0])).toEqual([field]);
    expect((err as Error).message).toContain(field);
  });

  it('accepts a 32-byte identifier', () => {
    expect(verifyUserSig(signUserSig({ ...base, identifier: 'x'.repeat(32) }), { ...base, identifier: 'x'.repeat(32) })).toMatchObject({ valid: true });
  });
});

describe('createUserSigSigner', () => {
  it('signs once and reuses the ticket', async () => {
    const provider = vi.fn(async () => base.secretKey);
    const signer = createUserSigSigner({ ...base, secretKey: provider });
    const [a, b] = await Promise.all([signer.get(), signer.get()]);
    expect(a).toBe(b);
    expect(await signer.get()).toBe(a);
    expect(provider).toHaveBeenCalledTimes(1);
  });

  it('re-signs when the ticket nears expiry and after invalidate()', async () => {
    vi.useFakeTimers({ now: 1_764_028_800_000, toFake: ['Date'] });
    try {
      const provider = vi.fn(() => base.secretKey);
      const signer = createUserSigSigner({ ...base, secretKey: provider, expireSeconds: 3600, refreshBeforeSeconds: 300 });
      await signer.get();
      vi.setSystemTime(1_764_028_800_000 + 3200_000);
      await signer.get();
      expect(provider).toHaveBeenCalledTimes(1);
      vi.setSystemTime(1_764_028_800_000 + 3301_000);
      const renewed = await signer.get();
      expect(provider).toHaveBeenCalledTimes(2);
      expect(decodeUserSig(renewed)?.['TLS.time']).toBe(1_764_028_800 + 3301);
      signer.invalidate();
      await signer.get();
      expect(provider).toHaveBeenCalledTimes(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects a provider that returns no key, without echoing it', async () => {
    const signer = createUserSigSigner({ ...base, secretKey: async () => 42 as unknown as string });
    await expect(signer.get()).rejects.toThrow(/secretKey: expected a non-empty string, got number/);
  });

  it('never shows the secret in inspect, JSON or toString', async () => {
    const signer = createUserSigSigner(base);
    const sig = await signer.get();
    for (const text of [inspect(signer, { showHidden: true, depth: 10 }), JSON.stringify(signer), String(signer)]) {
      expect(text).not.toContain(base.secretKey);
      expect(text).not.toContain(sig);
      expect(text).toContain('administrator');
    }
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
