import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { deflateSync } from 'node:zlib';
import { Api } from 'tls-sig-api-v2';
import { describe, expect, it, vi } from 'vitest';
import vectors from '../../../../spec/fixtures/usersig-vectors.json';
import { ValidationError } from '../errors/classes';
import { encodeSigText, signedContent } from './codec';
import { createUserSigSigner, signUserSig } from './sign';
import { decodeUserSig, MAX_USERSIG_LENGTH, verifyUserSig } from './verify';

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

/** A ticket document for `base`, signed correctly unless fields override it, encoded as a UserSig. */
function ticket(fields: Record<string, unknown> = {}, opts: { time?: number; expire?: number } = {}): { sig: string; mac: string } {
  const time = opts.time ?? Math.floor(Date.now() / 1000);
  const expire = opts.expire ?? 3600;
  const mac = createHmac('sha256', base.secretKey).update(signedContent(base.identifier, base.sdkAppId, time, expire)).digest('base64');
  const doc = { 'TLS.ver': '2.0', 'TLS.identifier': base.identifier, 'TLS.sdkappid': base.sdkAppId, 'TLS.time': time, 'TLS.expire': expire, 'TLS.sig': mac, ...fields };
  return { sig: encodeSigText(deflateSync(JSON.stringify(doc))), mac };
}

describe('verifyUserSig is strict and bounded', () => {
  it('verifies a hand-made ticket (the helper below is right)', () => {
    expect(verifyUserSig(ticket().sig, base)).toMatchObject({ valid: true });
  });

  it('decodes TLS.sig strictly: junk, missing padding, the URL-safe alphabet, non-canonical bits do not verify', () => {
    // find a clock whose HMAC has both + and / in its base64, so the URL-safe form differs
    let time = 1_764_028_800;
    while (!/[+/]/.test(ticket({}, { time }).mac)) time++;
    const { mac } = ticket({}, { time });
    expect(verifyUserSig(ticket({}, { time }).sig, { ...base, now: time * 1000 })).toMatchObject({ valid: true });
    const lastBits = 'AQgw'.indexOf(mac[42]!) >= 0 ? mac.slice(0, 42) + String.fromCharCode(mac.charCodeAt(42) + 1) + '=' : mac.slice(0, 42) + 'B=';
    for (const variant of [
      mac.slice(0, -1), // missing padding
      mac.replace(/\+/g, '-').replace(/\//g, '_'), // URL-safe alphabet
      `${mac}!!`, // junk after
      `!${mac}`, // junk before
      `${mac.slice(0, 20)}\n${mac.slice(20)}`, // a line break inside
      `${mac.slice(0, 20)} ${mac.slice(20)}`,
      lastBits, // same bytes to a lenient decoder, not canonical
      `${mac}AAAA`, // more bytes than an HMAC-SHA256
      '',
    ]) {
      expect(verifyUserSig(ticket({ 'TLS.sig': variant }, { time }).sig, { ...base, now: time * 1000 }), JSON.stringify(variant)).toEqual({
        valid: false,
        reason: 'bad-signature',
      });
    }
  });

  it('decodes the ticket text strictly: missing padding or junk is undecodable', () => {
    const padded = vectors.find((v) => v.userSig.endsWith('_'))!;
    const opts = { sdkAppId: padded.sdkAppId, secretKey: padded.key, identifier: padded.identifier, now: padded.time * 1000 };
    expect(verifyUserSig(padded.userSig, opts)).toMatchObject({ valid: true });
    for (const variant of [padded.userSig.replace(/_+$/, ''), `${padded.userSig}!`, ` ${padded.userSig}`, padded.userSig.replace(/-/g, '/')]) {
      expect(verifyUserSig(variant, opts)).toEqual({ valid: false, reason: 'undecodable' });
    }
  });

  it('refuses tickets that carry TLS.userbuf unless allowUserBuf is set', () => {
    const sig = new Api(base.sdkAppId, base.secretKey).genSig(base.identifier, 3600, Buffer.from('room-42'));
    expect(decodeUserSig(sig)?.['TLS.userbuf']).toBeTypeOf('string');
    expect(verifyUserSig(sig, base)).toEqual({ valid: false, reason: 'userbuf-not-allowed' });
    expect(verifyUserSig(sig, { ...base, allowUserBuf: true })).toMatchObject({ valid: true });
    const junkBuf = ticket({ 'TLS.userbuf': 'not base64!' }).sig;
    expect(verifyUserSig(junkBuf, { ...base, allowUserBuf: true })).toEqual({ valid: false, reason: 'undecodable' });
  });

  it('fails closed on an expiry no Date can hold, with a reason', () => {
    for (const [time, expire] of [
      [1_700_000_000, 9_000_000_000_000],
      [1_700_000_000, -10],
      [-5, 3600],
      [1_700_000_000, 1e300],
      [1_700_000_000.5, 3600],
    ]) {
      expect(verifyUserSig(ticket({}, { time, expire }).sig, base), `${time} + ${expire}`).toEqual({ valid: false, reason: 'bad-expiry' });
    }
  });

  it('answers at once for oversized tickets and decompression bombs', () => {
    const long = 'eJw' + 'A'.repeat(800_000 - 3);
    const bomb = encodeSigText(deflateSync(Buffer.alloc(1_000_000, 0x20), { level: 9 }));
    expect(bomb.length).toBeLessThanOrEqual(MAX_USERSIG_LENGTH);
    const started = performance.now();
    for (let i = 0; i < 200; i++) {
      expect(verifyUserSig(long, base)).toEqual({ valid: false, reason: 'too-large' });
      expect(verifyUserSig(bomb, base)).toEqual({ valid: false, reason: 'too-large' });
    }
    // generous slack for a busy host: unbounded, each 800 KB ticket alone took seconds to inflate
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(decodeUserSig(bomb)).toBeUndefined();
    expect(decodeUserSig(long)).toBeUndefined();
  });

  it('gives a typed reason for a ticket that is not a string', () => {
    for (const bad of [undefined, null, 42, {}, ['x']]) expect(verifyUserSig(bad as never, base)).toEqual({ valid: false, reason: 'undecodable' });
  });

  it.each<[string, unknown, string[]]>([
    ['now: NaN', { ...base, now: NaN }, ['now']],
    ['now: Infinity', { ...base, now: Infinity }, ['now']],
    ['now as a string', { ...base, now: '2025-01-01' }, ['now']],
    ['now as a Date', { ...base, now: new Date() }, ['now']],
    ['no secretKey', { sdkAppId: base.sdkAppId, identifier: base.identifier }, ['secretKey']],
    ['a numeric secretKey', { ...base, secretKey: 42 }, ['secretKey']],
    ['a string sdkAppId', { ...base, sdkAppId: String(base.sdkAppId) }, ['sdkAppId']],
    ['no identifier', { ...base, identifier: undefined }, ['identifier']],
    ['allowUserBuf as a string', { ...base, allowUserBuf: 'yes' }, ['allowUserBuf']],
    ['a misspelt option', { ...base, secretkey: 'x' }, ['secretkey']],
    ['null options', null, ['(root)']],
    ['no options', undefined, ['(root)']],
  ])('throws a ValidationError naming the field for %s (never valid: true)', (_name, options, paths) => {
    const expired = signUserSig({ ...base, expireSeconds: 1 });
    const err = catchError(() => verifyUserSig(expired, options as never));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path.join('.') || '(root)')).toEqual(paths);
    expect((err as Error).message).not.toContain(base.secretKey);
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
    [{ expireSeconds: Infinity }, 'expireSeconds'],
    [{ expireSeconds: NaN }, 'expireSeconds'],
    [{ expireSeconds: 51 * 365 * 86_400 }, 'expireSeconds'],
    [{ secretKey: '' }, 'secretKey'],
    [{ expire: 60 }, 'expire'],
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
