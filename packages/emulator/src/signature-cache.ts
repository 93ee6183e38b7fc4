import { verifyUserSig, type UserSigInvalidReason } from '@tim-broadcast/core';

const MAX_ENTRIES = 1_024;

export type SigVerdict = { valid: true } | { valid: false; reason: UserSigInvalidReason };

/**
 * Verifies UserSigs, remembering each valid ticket's expiry so a reused ticket is not inflated and
 * HMAC-checked on every call. Only valid verdicts are cached; expiry is still checked against `now` each time.
 */
export class SignatureCache {
  private valid = new Map<string, number>();
  private readonly sdkAppId: number;
  private readonly secretKey: string;

  constructor(sdkAppId: number, secretKey: string) {
    this.sdkAppId = sdkAppId;
    this.secretKey = secretKey;
  }

  verify(sig: string, identifier: string, now: number): SigVerdict {
    const key = `${identifier}\n${sig}`;
    const expiresAtSeconds = this.valid.get(key);
    if (expiresAtSeconds !== undefined) {
      return Math.floor(now / 1000) > expiresAtSeconds ? { valid: false, reason: 'expired' } : { valid: true };
    }
    const check = verifyUserSig(sig, { sdkAppId: this.sdkAppId, secretKey: this.secretKey, identifier, now });
    if (!check.valid) return { valid: false, reason: check.reason };
    if (this.valid.size >= MAX_ENTRIES) this.valid.clear();
    this.valid.set(key, check.expiresAt.getTime() / 1000);
    return { valid: true };
  }
}
