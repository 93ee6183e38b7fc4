import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { throwIfIssues, type ValidationIssue } from '@tim-broadcast/core';
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
 * Why `token` cannot serve as a bearer token, if it cannot: too short to resist guessing, or holding whitespace or
 * control characters (the `Authorization` header carries one token without spaces, so such a token never matches).
 * The message never echoes the value: it is a credential.
 */
export function bearerTokenIssue(token: unknown, path: PropertyKey[] = ['bearerToken']): ValidationIssue | undefined {
  if (typeof token !== 'string' || token.length < MIN_BEARER_TOKEN_LENGTH) {
    return { path, message: `expected a string of at least ${MIN_BEARER_TOKEN_LENGTH} characters` };
  }
  if (/[\s\x00-\x1f\x7f]/.test(token)) {
    return { path, message: 'must not contain whitespace or control characters: a bearer token is sent as one word, so it could never match' };
  }
  return undefined;
}

/**
 * Checks `Authorization: Bearer <token>`. Both sides are hashed first, so the comparison takes the same time
 * whatever the token's length or content. Throws a `ValidationError` for a token that could never match or is too short.
 */
export function bearerAuthorize(token: string): Authorize {
  throwIfIssues('invalid bearer token', [bearerTokenIssue(token, ['token'])]);
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
