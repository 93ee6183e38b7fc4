import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpProblem } from './problem';

/**
 * What `authorize` answers: `true` lets the request through, `false` refuses it with 403,
 * `'unauthenticated'` refuses it with 401 (no or bad credentials).
 */
export type AuthorizeResult = boolean | 'unauthenticated';

export type Authorize<Req extends IncomingMessage = IncomingMessage> = (req: Req) => AuthorizeResult | Promise<AuthorizeResult>;

/** Minimum length of a `bearerToken`, so a guessable token is refused at start-up. */
export const MIN_BEARER_TOKEN_LENGTH = 16;

const REALM = 'Bearer realm="tim-broadcast"';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Checks `Authorization: Bearer <token>`. Both sides are hashed first, so the comparison takes the same time
 * whatever the token's length or content.
 */
export function bearerAuthorize(token: string): Authorize {
  const expected = digest(token);
  return (req) => {
    const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    if (!match) return 'unauthenticated';
    return timingSafeEqual(digest(match[1]!), expected) ? true : 'unauthenticated';
  };
}

/** Runs the checks in order; the first refusal becomes the HTTP problem to answer with. */
export async function checkAccess<Req extends IncomingMessage>(req: Req, checks: readonly Authorize<Req>[]): Promise<void> {
  for (const check of checks) {
    const verdict = await check(req);
    if (verdict === true) continue;
    if (verdict === 'unauthenticated') {
      const hasCredentials = req.headers.authorization !== undefined;
      throw new HttpProblem(401, 'unauthorized', 'missing or invalid credentials', {
        'www-authenticate': hasCredentials ? `${REALM}, error="invalid_token"` : REALM,
      });
    }
    if (verdict === false) throw new HttpProblem(403, 'forbidden', 'not allowed to broadcast');
    throw new TypeError(`authorize() must return true, false or 'unauthenticated', got ${typeof verdict}`);
  }
}
