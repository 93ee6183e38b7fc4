/**
 * How the client reacts to an `ErrorCode`:
 * - `retryable`: transient server trouble; retried with backoff.
 * - `throttled`: a frequency limit; waits, tells the limiter, retries.
 * - `auth`: the UserSig, key or identifier is wrong; fails at once (70001/70052 re-sign once first).
 * - `config`: the app or console settings forbid the call; fails at once.
 * - `invalid`: the request itself is wrong; fails at once.
 * - `unknown`: not in the catalogue; fails at once.
 */
export type ErrorCategory = 'retryable' | 'throttled' | 'auth' | 'config' | 'invalid' | 'unknown';

export interface ErrorCodeInfo {
  code: number;
  category: ErrorCategory;
  /** What the code means and what to do about it. */
  hint: string;
}

type Row = [category: ErrorCategory, hint: string];

const RETRY = 'an internal error or timeout at Tencent; retry with backoff';
const RESIGN = 'the UserSig is no longer valid; generate a new one';
const BADSIG = 'UserSig verification failed; check the secret key, SDKAppID and identifier with the console UserSig tool';

const CATALOGUE: Record<number, Row> = {
  10002: ['retryable', 'internal server error; retry'],
  10003: ['invalid', 'invalid command word; check the request path'],
  10004: ['invalid', 'invalid parameter; read ErrorInfo for the field'],
  10005: ['invalid', 'too many accounts in the request'],
  10006: ['throttled', 'operation frequency limit; slow down'],
  10007: ['config', 'no permission: enable "Broadcast messaging of audio-video group" in the console (Feature configuration > Group configuration), and call as the app admin account'],
  10008: ['auth', 'invalid request or signature'],
  10016: ['invalid', "your app's before-send webhook rejected the message; check the webhook's answer and logs"],
  10017: ['config', 'the sender (From_Account, or the admin account) is muted; lift the mute or send from another account'],
  10019: ['invalid', 'the sender does not exist; import the From_Account (account_import) or leave From_Account out'],
  10018: ['invalid', 'response larger than 1 MB'],
  10023: ['throttled', 'broadcast frequency limit reached (1 call/s on most editions); wait and retry'],
  10026: ['config', 'this command word is disabled for the SDKAppID'],
  10059: ['config', 'the app is not on an edition that includes broadcast messages (Ultimate/Enterprise)'],
  60002: ['invalid', 'HTTP parse error; check the URL format'],
  60003: ['invalid', 'the request body is not valid JSON'],
  60004: ['auth', 'bad account or signature in the URL or body'],
  60005: ['auth', 'bad account or signature in the URL or body'],
  60006: ['config', 'SDKAppID invalid; check it in the console'],
  60007: ['throttled', 'REST API call frequency over the limit; slow down'],
  60008: ['retryable', 'service timeout or malformed HTTP request; retry'],
  60009: ['invalid', 'bad request resource; check the URL'],
  60010: ['auth', 'the identifier is not an app admin account; use the admin account from the console'],
  60011: ['throttled', 'SDKAppID request frequency over the limit; slow down'],
  60012: ['invalid', 'SDKAppID missing from the URL'],
  60013: ['retryable', 'JSON parse error in an internal HTTP response; retry'],
  60014: ['retryable', 'account exchange timed out; retry'],
  60015: ['invalid', 'wrong account type in the body (must be a string)'],
  60016: ['config', 'the SDKAppID is disabled'],
  60017: ['config', 'the request is disabled for this app'],
  60018: ['throttled', 'too many requests; retry later'],
  60019: ['throttled', 'too many requests; retry later'],
  60020: ['config', 'the Pro package expired or is suspended; repurchasing takes effect after about 5 minutes'],
  60021: ['config', 'the source IP is not on the app\'s REST API allowlist'],
  70001: ['auth', 'the UserSig expired; generate a new one (the client re-signs once by itself)'],
  70002: ['auth', 'the UserSig is empty'],
  70003: ['auth', 'the UserSig is invalid or truncated; check that it is passed whole and URL-encoded'],
  70004: ['auth', 'the UserSig is invalid or truncated; check that it is passed whole and URL-encoded'],
  70005: ['auth', BADSIG],
  70006: ['auth', BADSIG],
  70007: ['auth', BADSIG],
  70008: ['auth', BADSIG],
  70009: ['auth', 'HMAC check failed: the secret key belongs to another SDKAppID'],
  70010: ['auth', BADSIG],
  70013: ['auth', 'the identifier in the URL differs from the one in the UserSig'],
  70014: ['auth', 'the SDKAppID in the URL differs from the one in the UserSig'],
  70015: ['config', 'no verification method for this SDKAppID; check the app\'s key settings'],
  70016: ['config', 'key not found: check that the SDKAppID belongs to the region you called'],
  70017: ['retryable', 'internal ticket check timed out; retry'],
  70018: ['retryable', 'internal ticket check failed; retry'],
  70019: ['auth', 'the UserSig field is empty'],
  70020: ['config', 'SDKAppID not found: check that it belongs to the region you called'],
  70050: [
    'auth',
    'too many failed UserSig checks: the account is locked for about a minute. Fix the secret key, SDKAppID and identifier first; retrying inside the lockout only fails again',
  ],
  70051: ['auth', 'the account is blocklisted'],
  70052: ['auth', RESIGN],
  70214: ['auth', BADSIG],
  70221: ['auth', 'login state invalid; re-authenticate with a fresh UserSig'],
  70236: ['auth', BADSIG],
  70346: ['auth', BADSIG],
  70347: ['auth', 'the ticket expired; generate a new UserSig'],
  70107: ['invalid', 'the account is not imported into Chat; import it (account_import) or use an existing From_Account'],
  70398: ['config', 'the app has reached its account limit (100 on trial editions); upgrade the edition or delete unused accounts'],
  70402: ['invalid', 'invalid parameter'],
  70403: ['auth', 'the identifier is not an app admin account'],
  80001: ['invalid', 'the text failed content filtering'],
  80002: ['invalid', 'the message is too long; keep MsgBody within 12,000 bytes'],
};

for (const code of [70169, 70201, 70202, 70203, 70207, 70208, 70212, 70213, 70222, 70225, 70231, 70308, 70348, 70362, 70401, 70500]) {
  CATALOGUE[code] = ['retryable', RETRY];
}
for (const code of [70101, 70102, 70103, 70104, 70105, 70106]) {
  CATALOGUE[code] = ['invalid', 'malformed request (account type or format)'];
}

/** Codes after which the client re-signs once and retries. */
export const EXPIRED_SIGNATURE_CODES: ReadonlySet<number> = new Set([70001, 70052]);

/** The catalogue entry for a code; unknown codes get the `unknown` category. */
export function describeErrorCode(code: number): ErrorCodeInfo {
  const row = typeof code === 'number' && Object.hasOwn(CATALOGUE, code) ? CATALOGUE[code] : undefined;
  return row
    ? { code, category: row[0], hint: row[1] }
    : { code, category: 'unknown', hint: 'not in the tim-broadcast catalogue; see the Tencent Cloud Chat error code list' };
}

export function isRetryableCategory(category: ErrorCategory): boolean {
  return category === 'retryable' || category === 'throttled';
}

/** Every catalogued code, for documentation and tests. */
export function errorCatalogue(): ErrorCodeInfo[] {
  return Object.keys(CATALOGUE).map((code) => describeErrorCode(Number(code)));
}
