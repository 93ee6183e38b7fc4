import {
  broadcastRequestSchema,
  formatPath,
  MAX_MESSAGE_BYTES,
  messageBytes,
  type BroadcastRequest,
  type UserSigInvalidReason,
} from '@tim-broadcast/core';
import type { SignatureCache } from './signature-cache';

/** A refusal, answered as `{ ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info }`. */
export interface Rejection {
  code: number;
  info: string;
}

/** A request body that passed every check; `Random` is required by the service. */
export type AcceptedRequest = BroadcastRequest & { Random: number };

export interface QueryContext {
  sdkAppId: number;
  admin: string;
  signatures: SignatureCache;
  now: number;
}

const SIGNATURE_REJECTIONS: Record<UserSigInvalidReason, Rejection> = {
  expired: { code: 70001, info: 'UserSig expired' },
  undecodable: { code: 70003, info: 'UserSig invalid: cannot be decoded (truncated or not URL-encoded?)' },
  'too-large': { code: 70003, info: 'UserSig invalid: far longer than any real ticket' },
  'bad-expiry': { code: 70003, info: 'UserSig invalid: TLS.time + TLS.expire is not a valid instant' },
  'userbuf-not-allowed': { code: 70003, info: 'UserSig invalid: it carries TLS.userbuf, which Chat REST calls do not use' },
  'bad-signature': { code: 70009, info: 'UserSig verification failed: HMAC does not match the key of this SDKAppID' },
  'identifier-mismatch': { code: 70013, info: 'identifier in the URL does not match the identifier in the UserSig' },
  'sdkappid-mismatch': { code: 70014, info: 'sdkappid in the URL does not match the SDKAppID in the UserSig' },
};

const UINT32 = /^(0|[1-9]\d{0,9})$/;

/**
 * The URL checks, in the order a plausible server runs them: contenttype, sdkappid, identifier, usersig,
 * random, the signature, then admin permission. Never echoes the UserSig.
 */
export function checkQuery(query: URLSearchParams, ctx: QueryContext): Rejection | undefined {
  if (query.get('contenttype') !== 'json') return { code: 60002, info: 'HTTP parse error: contenttype must be json' };

  const sdkappid = query.get('sdkappid');
  if (!sdkappid) return { code: 60012, info: 'sdkappid missing from the URL' };
  if (sdkappid !== String(ctx.sdkAppId)) return { code: 60006, info: 'SDKAppID invalid: not known to this server' };

  const identifier = query.get('identifier');
  if (!identifier) return { code: 60004, info: 'identifier missing from the URL' };

  const usersig = query.get('usersig');
  if (!usersig) return { code: 70002, info: 'UserSig is empty' };

  const random = query.get('random');
  if (random === null) return { code: 60002, info: 'HTTP parse error: random missing from the URL' };
  if (!(UINT32.test(random) && Number(random) <= 0xffffffff)) {
    return { code: 60002, info: 'HTTP parse error: random must be an integer from 0 to 4294967295' };
  }

  const verdict = ctx.signatures.verify(usersig, identifier, ctx.now);
  if (!verdict.valid) return SIGNATURE_REJECTIONS[verdict.reason];

  if (identifier !== ctx.admin) return { code: 60010, info: 'this API needs an app admin account as identifier' };
  return undefined;
}

/**
 * The deepest JSON nesting a body may have. A body holds its elements' content at depth 4 and each nested
 * TIMRelayElem adds 5, so this allows relays nested 18 deep; deeper bodies (a few KB of brackets) would otherwise overflow the
 * stack of the recursive steps after parsing (zod, byte counting, the dedup hash).
 */
export const MAX_BODY_DEPTH = 100;

/** The nesting depth of JSON text, or `Infinity` once it passes `limit`. Counts brackets outside strings. */
export function jsonDepth(text: string, limit = MAX_BODY_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return Infinity;
      if (depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Parses and validates the body (`null`: over the body limit): JSON, shape (per core's schemas, `Random` required), then size. */
export function checkBody(raw: string | null): { request: AcceptedRequest; bytes: number } | Rejection {
  if (raw === null) return { code: 10004, info: 'invalid parameter: the request body is larger than 1 MiB' };
  if (jsonDepth(raw) > MAX_BODY_DEPTH) return { code: 10004, info: `invalid parameter: the body is nested more than ${MAX_BODY_DEPTH} levels deep` };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { code: 60003, info: 'request JSON parse error' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { code: 10004, info: 'invalid parameter: the body must be a JSON object' };
  }
  if ((value as { Random?: unknown }).Random === undefined) return { code: 10004, info: 'invalid parameter: Random: required' };

  const result = broadcastRequestSchema.safeParse(value);
  if (!result.success) {
    // core marks the byte-limit issue with params.reason 'too-long'; everything else is a shape error.
    const shape = result.error.issues.find((issue) => !(issue.code === 'custom' && issue.params?.reason === 'too-long'));
    if (shape) return { code: 10004, info: `invalid parameter: ${formatPath(shape.path)}: ${shape.message}` };
    const bytes = messageBytes((value as { MsgBody: unknown[] }).MsgBody);
    return { code: 80002, info: `message too long: MsgBody is ${bytes} bytes, the limit is ${MAX_MESSAGE_BYTES}` };
  }
  return { request: result.data as AcceptedRequest, bytes: messageBytes(result.data.MsgBody) };
}
