import { decodeUserSig, signUserSig, verifyUserSig, type UserSigInvalidReason } from '@tim-broadcast/core';
import { readInput } from './broadcast-file';
import { optionsError, resolveConfig, type AppFlags } from './config';
import { EXIT_FAILURE, EXIT_OK, usageError } from './errors';
import { line, type CliIo } from './io';
import { formatDuration } from './plan';

export interface UserSigFlags extends AppFlags {
  expire: number;
  json?: boolean;
}

/** `usersig`: signs a UserSig for the configured identifier and prints it on stdout, the only place it appears. */
export function signCommand(io: CliIo, flags: UserSigFlags): number {
  const config = resolveConfig(flags, io.env, { endpoint: false });
  let sig: string;
  try {
    sig = signUserSig({ sdkAppId: config.sdkAppId, secretKey: config.secretKey, identifier: config.identifier, expireSeconds: flags.expire });
  } catch (err) {
    throw optionsError(err);
  }
  const expiresAt = new Date(Date.now() + flags.expire * 1000).toISOString();
  if (flags.json) {
    line(io.stdout, JSON.stringify({ userSig: sig, sdkAppId: config.sdkAppId, identifier: config.identifier, expireSeconds: flags.expire, expiresAt }));
  } else {
    line(io.stdout, sig);
    line(io.stderr, `UserSig for ${config.identifier} of SDKAppID ${config.sdkAppId}, valid ${formatDuration(flags.expire * 1000)} (until about ${expiresAt}). Treat it like a password.`);
  }
  return EXIT_OK;
}

export interface VerifyFlags extends AppFlags {
  json?: boolean;
}

/** `usersig verify SIG` (or `-` to read it from stdin): exit 0 with the expiry when valid, exit 1 with the reason when not. */
export async function verifyCommand(io: CliIo, sigArg: string, flags: VerifyFlags): Promise<number> {
  const config = resolveConfig(flags, io.env, { endpoint: false });
  const sig = (sigArg === '-' ? await readInput('-', io.stdin) : sigArg).trim();
  if (!sig) throw usageError('usersig verify: the UserSig is empty');
  const check = verifyUserSig(sig, { sdkAppId: config.sdkAppId, secretKey: config.secretKey, identifier: config.identifier });
  if (check.valid) {
    const left = formatDuration(check.expiresAt.getTime() - Date.now());
    if (flags.json) line(io.stdout, JSON.stringify({ valid: true, issuedAt: check.issuedAt.toISOString(), expiresAt: check.expiresAt.toISOString() }));
    else line(io.stdout, `valid: issued ${check.issuedAt.toISOString()}, expires ${check.expiresAt.toISOString()} (in ${left})`);
    return EXIT_OK;
  }
  const explanation = explain(check.reason, sig, config, check.expiresAt);
  if (flags.json) {
    line(io.stdout, JSON.stringify({ valid: false, reason: check.reason, explanation, ...(check.expiresAt ? { expiresAt: check.expiresAt.toISOString() } : {}) }));
  } else {
    line(io.stdout, `invalid: ${check.reason}: ${explanation}`);
  }
  return EXIT_FAILURE;
}

/** Why a ticket is refused, in words; names what the ticket says (its app and identifier, never its HMAC). */
function explain(reason: UserSigInvalidReason, sig: string, config: { sdkAppId: number; identifier: string }, expiresAt: Date | undefined): string {
  const doc = decodeUserSig(sig);
  switch (reason) {
    case 'expired':
      return `expired at ${expiresAt?.toISOString()} (the API answers 70001); sign a new one`;
    case 'sdkappid-mismatch':
      return `signed for SDKAppID ${String(doc?.['TLS.sdkappid'])}, not ${config.sdkAppId} (the API answers 70014)`;
    case 'identifier-mismatch':
      return `signed for identifier ${JSON.stringify(doc?.['TLS.identifier'])}, not ${JSON.stringify(config.identifier)} (the API answers 70013)`;
    case 'bad-signature':
      return 'the signature does not match: it was signed with another secret key, or altered (the API answers 70009)';
    case 'undecodable':
      return 'not a UserSig: it does not decode (base64url, zlib, JSON with TLS.* fields; the API answers 70003)';
    case 'too-large':
      return 'too large to be a UserSig (over the length or inflated-size cap; the API answers 70003)';
    case 'bad-expiry':
      return 'its TLS.time + TLS.expire is not a representable instant (the API answers 70003)';
    case 'userbuf-not-allowed':
      return 'it carries TLS.userbuf (a TRTC PrivateMapKey), which a Chat REST admin ticket does not; the API may refuse it';
  }
}
