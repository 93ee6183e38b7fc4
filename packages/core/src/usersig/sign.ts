import { Api } from 'tls-sig-api-v2';
import { ValidationError, type ValidationIssue } from '../errors/classes';
import { hideInternals } from '../hide';
import { numberIssue, objectIssue, unknownOptionIssues } from '../options';

/** The secret key as a string, or a function that fetches it (e.g. from a secrets manager) when a ticket is signed. */
export type SecretKeySource = string | (() => string | Promise<string>);

export interface SignUserSigOptions {
  sdkAppId: number;
  secretKey: string;
  identifier: string;
  /** Ticket lifetime in seconds (default 86,400 = 1 day). */
  expireSeconds?: number;
}

export const DEFAULT_USERSIG_EXPIRE_SECONDS = 86_400;
/** 50 years, the longest lifetime Tencent's FAQ mentions. */
export const MAX_USERSIG_EXPIRE_SECONDS = 50 * 365 * 86_400;
const MAX_IDENTIFIER_BYTES = 32;
const SIGN_OPTIONS = ['sdkAppId', 'secretKey', 'identifier', 'expireSeconds'];
const SIGNER_OPTIONS = [...SIGN_OPTIONS, 'refreshBeforeSeconds'];

/** Issues found in the inputs `tls-sig-api-v2` would silently turn into an unusable ticket. */
export function signerInputIssues(input: { sdkAppId?: unknown; identifier?: unknown; expireSeconds?: unknown }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const { sdkAppId, identifier, expireSeconds } = input;
  if (typeof sdkAppId !== 'number' || !Number.isSafeInteger(sdkAppId) || sdkAppId <= 0 || sdkAppId > 0xffffffff) {
    issues.push({ path: ['sdkAppId'], message: `expected a positive integer SDKAppID, got ${describe(sdkAppId)}` });
  }
  if (typeof identifier !== 'string') {
    issues.push({ path: ['identifier'], message: `expected the admin account name as a string, got ${describe(identifier)}` });
  } else {
    const bytes = Buffer.byteLength(identifier, 'utf8');
    if (bytes < 1 || bytes > MAX_IDENTIFIER_BYTES) {
      issues.push({ path: ['identifier'], message: `must be 1 to ${MAX_IDENTIFIER_BYTES} bytes, got ${bytes}` });
    } else if (/[\u0000-\u001f\u007f]/.test(identifier)) {
      issues.push({ path: ['identifier'], message: 'must not contain control characters' });
    }
  }
  const lifetime = numberIssue(expireSeconds, ['expireSeconds'], 'count', { min: 1, max: MAX_USERSIG_EXPIRE_SECONDS });
  if (lifetime) issues.push({ ...lifetime, message: `${lifetime.message} (seconds)` });
  return issues;
}

function checkSecret(secret: unknown): string {
  if (typeof secret !== 'string' || secret.length === 0) {
    // never echo the value: it may be a real key of the wrong type
    throw new ValidationError('invalid secret key', [{ path: ['secretKey'], message: `expected a non-empty string, got ${typeof secret === 'string' ? 'an empty string' : typeof secret}` }]);
  }
  return secret;
}

/** Signs one UserSig, after validating what `tls-sig-api-v2` does not. */
export function signUserSig(options: SignUserSigOptions): string {
  const shape = objectIssue(options, []);
  if (shape) throw new ValidationError('invalid UserSig input', [shape]);
  const issues = [...unknownOptionIssues(options, SIGN_OPTIONS), ...signerInputIssues(options)];
  if (issues.length) throw new ValidationError('invalid UserSig input', issues);
  const secret = checkSecret(options.secretKey);
  return new Api(options.sdkAppId, secret).genUserSig(options.identifier, options.expireSeconds ?? DEFAULT_USERSIG_EXPIRE_SECONDS);
}

export interface UserSigSignerOptions {
  sdkAppId: number;
  identifier: string;
  secretKey: SecretKeySource;
  /** Ticket lifetime in seconds (default 86,400). */
  expireSeconds?: number;
  /** Sign a new ticket this many seconds before the old one expires (default 10% of the lifetime, at least 60 s). */
  refreshBeforeSeconds?: number;
}

export interface UserSigSigner {
  /** A valid UserSig: the cached one, or a freshly signed one when it is near expiry. */
  get(): Promise<string>;
  /** Forget the cached ticket (after the server said it expired), so the next `get()` signs anew. */
  invalidate(): void;
}

/** A UserSig cache: signs on first use, reuses the ticket, re-signs before it expires. */
export function createUserSigSigner(options: UserSigSignerOptions): UserSigSigner {
  const shape = objectIssue(options, []);
  if (shape) throw new ValidationError('invalid UserSig signer options', [shape]);
  const issues = [...unknownOptionIssues(options, SIGNER_OPTIONS), ...signerInputIssues(options)];
  const { secretKey } = options;
  const lifetime = options.expireSeconds ?? DEFAULT_USERSIG_EXPIRE_SECONDS;
  const refresh = numberIssue(options.refreshBeforeSeconds, ['refreshBeforeSeconds'], 'count', {
    max: typeof lifetime === 'number' && lifetime >= 1 ? lifetime - 1 : MAX_USERSIG_EXPIRE_SECONDS,
  });
  if (refresh) issues.push({ ...refresh, message: `${refresh.message} (seconds, less than the lifetime)` });
  if (typeof secretKey !== 'function') {
    try {
      checkSecret(secretKey);
    } catch (err) {
      issues.push(...(err as ValidationError).issues);
    }
  }
  if (issues.length) throw new ValidationError('invalid UserSig signer options', issues);

  const { sdkAppId, identifier } = options;
  const expire = options.expireSeconds ?? DEFAULT_USERSIG_EXPIRE_SECONDS;
  const refreshMs = 1000 * (options.refreshBeforeSeconds ?? Math.min(Math.max(60, Math.floor(expire / 10)), Math.floor(expire / 2)));
  let cached: { sig: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function sign(): Promise<string> {
    const secret = checkSecret(typeof secretKey === 'function' ? await secretKey() : secretKey);
    const signedAt = Date.now();
    const sig = new Api(sdkAppId, secret).genUserSig(identifier, expire);
    cached = { sig, refreshAt: signedAt + expire * 1000 - refreshMs };
    return sig;
  }

  const signer: UserSigSigner = {
    get() {
      if (cached && Date.now() < cached.refreshAt) return Promise.resolve(cached.sig);
      pending ??= sign().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
  };
  return hideInternals(signer, 'UserSigSigner', { sdkAppId, identifier, expireSeconds: expire });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}
