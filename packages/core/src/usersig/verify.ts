import { createHmac, timingSafeEqual } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { ValidationError, type ValidationIssue } from '../errors/classes';
import { numberIssue, objectIssue, unknownOptionIssues } from '../options';
import { decodeSigText, decodeStrictBase64, signedContent } from './codec';
import { signerInputIssues } from './sign';

/** Longest UserSig text looked at; real tickets are a few hundred characters. */
export const MAX_USERSIG_LENGTH = 2_048;
/** Largest ticket document inflated; real ones are about 200 bytes. */
export const MAX_TICKET_BYTES = 4_096;
/** The last instant a `Date` can hold, in ms. */
const MAX_DATE_MS = 8.64e15;

export type UserSigInvalidReason =
  /** Not the UserSig encoding (strict base64 variant, zlib, a JSON ticket with the fields of TLS sig v2). */
  | 'undecodable'
  /** Longer than MAX_USERSIG_LENGTH characters, or inflates past MAX_TICKET_BYTES. */
  | 'too-large'
  | 'sdkappid-mismatch'
  | 'identifier-mismatch'
  /** `TLS.time` + `TLS.expire` is not a representable instant (negative, or beyond what a Date holds). */
  | 'bad-expiry'
  | 'expired'
  /** The ticket carries `TLS.userbuf` (TRTC's PrivateMapKey) and `allowUserBuf` was not set. */
  | 'userbuf-not-allowed'
  /** `TLS.sig` is not strict standard base64 of an HMAC-SHA256, or does not match. */
  | 'bad-signature';

export type UserSigCheck =
  | { valid: true; issuedAt: Date; expiresAt: Date }
  | { valid: false; reason: UserSigInvalidReason; expiresAt?: Date };

export interface VerifyUserSigOptions {
  sdkAppId: number;
  secretKey: string;
  identifier: string;
  /** Clock in ms (default `Date.now()`), e.g. to check a ticket at a fixed time. */
  now?: number;
  /** Accept tickets that carry `TLS.userbuf` (TRTC PrivateMapKey); Chat's REST API never uses one (default false). */
  allowUserBuf?: boolean;
}

const KNOWN_OPTIONS = ['sdkAppId', 'secretKey', 'identifier', 'now', 'allowUserBuf'];

interface TicketDoc {
  'TLS.ver'?: unknown;
  'TLS.identifier'?: unknown;
  'TLS.sdkappid'?: unknown;
  'TLS.time'?: unknown;
  'TLS.expire'?: unknown;
  'TLS.userbuf'?: unknown;
  'TLS.sig'?: unknown;
}

/** The ticket document, or why it cannot be read. Bounded: the text's length and the inflated size are capped. */
function readTicket(sig: unknown): TicketDoc | 'undecodable' | 'too-large' {
  if (typeof sig !== 'string' || sig.length === 0) return 'undecodable';
  if (sig.length > MAX_USERSIG_LENGTH) return 'too-large';
  const raw = decodeSigText(sig);
  if (!raw) return 'undecodable';
  let text: string;
  try {
    text = inflateSync(raw, { maxOutputLength: MAX_TICKET_BYTES }).toString('utf8');
  } catch (err) {
    return (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'undecodable';
  }
  try {
    const doc: unknown = JSON.parse(text);
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as TicketDoc) : 'undecodable';
  } catch {
    return 'undecodable';
  }
}

/** Decodes a UserSig's JSON document without checking it; undefined if it cannot be read (or is over the caps). */
export function decodeUserSig(sig: string): TicketDoc | undefined {
  const doc = readTicket(sig);
  return typeof doc === 'string' ? undefined : doc;
}

function optionIssues(options: VerifyUserSigOptions): ValidationIssue[] {
  const shape = objectIssue(options, []);
  if (shape) return [shape];
  const issues: ValidationIssue[] = [
    ...unknownOptionIssues(options, KNOWN_OPTIONS),
    ...signerInputIssues({ sdkAppId: options.sdkAppId, identifier: options.identifier }),
  ];
  const { secretKey, now, allowUserBuf } = options;
  if (typeof secretKey !== 'string' || secretKey.length === 0) {
    // never echo the value: it may be a real key of the wrong type
    issues.push({ path: ['secretKey'], message: `expected a non-empty string, got ${typeof secretKey === 'string' ? 'an empty string' : typeof secretKey}` });
  }
  const clock = numberIssue(now, ['now'], 'number', { max: MAX_DATE_MS });
  if (clock) issues.push({ ...clock, message: `${clock.message} (a clock in ms)` });
  if (allowUserBuf !== undefined && typeof allowUserBuf !== 'boolean') issues.push({ path: ['allowUserBuf'], message: 'expected a boolean' });
  return issues;
}

/**
 * Checks a UserSig the way Tencent's servers do (TLS sig v2, HMAC-SHA256): decode, compare SDKAppID and
 * identifier, check expiry, recompute the HMAC and compare it in constant time. Fails closed: bad options throw a
 * ValidationError naming the field; any ticket that is not provably valid gives `{ valid: false, reason }`, in
 * bounded time and memory whatever its size.
 */
export function verifyUserSig(sig: string, options: VerifyUserSigOptions): UserSigCheck {
  const issues = optionIssues(options);
  if (issues.length) throw new ValidationError('invalid verifyUserSig options', issues);

  const doc = readTicket(sig);
  if (typeof doc === 'string') return { valid: false, reason: doc };
  const time = doc['TLS.time'];
  const expire = doc['TLS.expire'];
  const mac = doc['TLS.sig'];
  const userbuf = doc['TLS.userbuf'];
  if (typeof time !== 'number' || typeof expire !== 'number' || typeof mac !== 'string' || typeof doc['TLS.identifier'] !== 'string') {
    return { valid: false, reason: 'undecodable' };
  }
  if (doc['TLS.sdkappid'] !== options.sdkAppId) return { valid: false, reason: 'sdkappid-mismatch' };
  if (doc['TLS.identifier'] !== options.identifier) return { valid: false, reason: 'identifier-mismatch' };

  if (!Number.isSafeInteger(time) || !Number.isSafeInteger(expire) || time < 0 || expire < 0 || (time + expire) * 1000 > MAX_DATE_MS) {
    return { valid: false, reason: 'bad-expiry' };
  }
  const expiresAt = new Date((time + expire) * 1000);
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (nowSeconds > time + expire) return { valid: false, reason: 'expired', expiresAt };

  if (userbuf !== undefined) {
    if (options.allowUserBuf !== true) return { valid: false, reason: 'userbuf-not-allowed' };
    if (typeof userbuf !== 'string' || !decodeStrictBase64(userbuf)) return { valid: false, reason: 'undecodable' };
  }
  const given = decodeStrictBase64(mac);
  const content = signedContent(options.identifier, options.sdkAppId, time, expire, userbuf as string | undefined);
  const expected = createHmac('sha256', options.secretKey).update(content).digest();
  if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) return { valid: false, reason: 'bad-signature' };
  return { valid: true, issuedAt: new Date(time * 1000), expiresAt };
}
