import { createHmac, timingSafeEqual } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { decodeSigText, signedContent } from './codec';

export type UserSigInvalidReason = 'undecodable' | 'sdkappid-mismatch' | 'identifier-mismatch' | 'expired' | 'bad-signature';

export type UserSigCheck =
  | { valid: true; issuedAt: Date; expiresAt: Date }
  | { valid: false; reason: UserSigInvalidReason; expiresAt?: Date };

export interface VerifyUserSigOptions {
  sdkAppId: number;
  secretKey: string;
  identifier: string;
  /** Clock in ms (default `Date.now()`), e.g. to check a ticket at a fixed time. */
  now?: number;
}

interface TicketDoc {
  'TLS.ver'?: unknown;
  'TLS.identifier'?: unknown;
  'TLS.sdkappid'?: unknown;
  'TLS.time'?: unknown;
  'TLS.expire'?: unknown;
  'TLS.userbuf'?: unknown;
  'TLS.sig'?: unknown;
}

/** Decodes a UserSig's JSON document without checking it; undefined if it cannot be read. */
export function decodeUserSig(sig: string): TicketDoc | undefined {
  const raw = typeof sig === 'string' ? decodeSigText(sig) : undefined;
  if (!raw) return undefined;
  try {
    const doc: unknown = JSON.parse(inflateSync(raw).toString('utf8'));
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as TicketDoc) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a UserSig the way Tencent's servers do (TLS sig v2, HMAC-SHA256): decode, compare SDKAppID and
 * identifier, check expiry, recompute the HMAC and compare it in constant time.
 */
export function verifyUserSig(sig: string, options: VerifyUserSigOptions): UserSigCheck {
  const doc = decodeUserSig(sig);
  const time = doc?.['TLS.time'];
  const expire = doc?.['TLS.expire'];
  const mac = doc?.['TLS.sig'];
  const userbuf = doc?.['TLS.userbuf'];
  if (
    !doc ||
    !Number.isSafeInteger(time) ||
    !Number.isSafeInteger(expire) ||
    typeof mac !== 'string' ||
    typeof doc['TLS.identifier'] !== 'string' ||
    (userbuf !== undefined && typeof userbuf !== 'string')
  ) {
    return { valid: false, reason: 'undecodable' };
  }
  if (doc['TLS.sdkappid'] !== options.sdkAppId) return { valid: false, reason: 'sdkappid-mismatch' };
  if (doc['TLS.identifier'] !== options.identifier) return { valid: false, reason: 'identifier-mismatch' };

  const expiresAt = new Date(((time as number) + (expire as number)) * 1000);
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (nowSeconds > (time as number) + (expire as number)) return { valid: false, reason: 'expired', expiresAt };

  const content = signedContent(options.identifier, options.sdkAppId, time as number, expire as number, userbuf as string | undefined);
  const expected = createHmac('sha256', options.secretKey).update(content).digest();
  const given = Buffer.from(mac, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { valid: false, reason: 'bad-signature' };
  return { valid: true, issuedAt: new Date((time as number) * 1000), expiresAt };
}
