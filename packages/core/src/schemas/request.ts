import { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors/classes';
import { MAX_MESSAGE_BYTES, serializedBytes } from '../size';
import { nestingIssue } from './depth';
import { msgElementSchema } from './elements';
import { fastRequest } from './fast-request';
import { uint32Schema } from './numbers';

export { UINT32_MAX, uint32Schema } from './numbers';

/** The nesting verdict per parsed MsgBody, so the shape and size checks walk it once. */
const nesting = new WeakMap<object, ValidationIssue | null>();
function nestingOf(body: object): ValidationIssue | null {
  let found = nesting.get(body);
  if (found === undefined) nesting.set(body, (found = nestingIssue(body) ?? null));
  return found;
}

/** MsgBody without the byte limit: non-empty, bounded nesting, at most one TIMCustomElem. */
export const msgBodyShapeSchema = z
  .array(msgElementSchema)
  .min(1, { error: 'MsgBody needs at least one element' })
  .superRefine((body, ctx) => {
    const deep = nestingOf(body);
    if (deep) ctx.addIssue({ code: 'custom', path: deep.path, message: deep.message });
    let customs = 0;
    body.forEach((el, i) => {
      if (el.MsgType === 'TIMCustomElem' && ++customs === 2) {
        ctx.addIssue({ code: 'custom', path: [i, 'MsgType'], message: 'a message may hold at most one TIMCustomElem' });
      }
    });
  });

export const msgBodySchema = msgBodyShapeSchema.superRefine((body, ctx) => {
  if (nestingOf(body)) return; // reported by the shape check; too deep to measure safely
  let bytes: number;
  try {
    bytes = serializedBytes(body);
  } catch {
    // a relayed element's free-form content holding a BigInt, or a toJSON that throws
    ctx.addIssue({ code: 'custom', message: 'MsgBody cannot be serialized as JSON' });
    return;
  }
  if (bytes > MAX_MESSAGE_BYTES) ctx.addIssue(sizeIssue(bytes));
});

/** The issue for a MsgBody over the limit; `params.reason` marks it for tools that map it to 80002. */
export function sizeIssue(bytes: number) {
  return {
    code: 'custom' as const,
    message: `MsgBody is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES} bytes (UTF-8 JSON)`,
    params: { reason: 'too-long', bytes, limit: MAX_MESSAGE_BYTES },
  };
}

/** The body of `send_broadcast_msg`. `Random` is optional here: the client picks one when it is missing. */
export const broadcastRequestSchema = z.strictObject({
  /** Sender shown to receivers; defaults to the admin account. The account must exist. */
  From_Account: z.string().min(1).optional(),
  /** Message dedup key: same Random and content within 5 minutes = one message. */
  Random: uint32Schema.optional(),
  MsgBody: msgBodySchema,
  /** Custom data stored with the message and delivered to receivers. */
  CloudCustomData: z.string().optional(),
});

/** The request without the byte limit, for callers that measure the serialized MsgBody themselves (the client). */
export const broadcastRequestShapeSchema = broadcastRequestSchema.extend({ MsgBody: msgBodyShapeSchema });

export const broadcastResponseSchema = z.looseObject({
  ActionStatus: z.string(),
  ErrorCode: z.int(),
  ErrorInfo: z.string().optional(),
  MsgSeq: z.int().optional(),
});

export type BroadcastRequest = z.infer<typeof broadcastRequestSchema>;
/** What the client accepts: like BroadcastRequest, typed for the caller (input side of the schema). */
export type BroadcastRequestInput = z.input<typeof broadcastRequestSchema>;
export type BroadcastResponse = z.infer<typeof broadcastResponseSchema>;

/** Issues of a zod error as `{ path, message }`. */
export function toIssues(error: z.ZodError): ValidationIssue[] {
  const issues = (error as { issues?: unknown } | null)?.issues;
  if (!Array.isArray(issues)) throw new ValidationError('toIssues expects a ZodError', [{ path: ['error'], message: 'expected a ZodError' }]);
  return issues.map((issue: z.core.$ZodIssue) => ({ path: [...issue.path], message: issue.message }));
}

/** Validates a broadcast request; returns it typed, or throws a ValidationError listing each issue's path. */
export function parseBroadcastRequest(input: unknown): BroadcastRequest {
  return parseWith(broadcastRequestSchema, input);
}

/**
 * What the client sends: the request validated without the byte limit, then serialized once, the limit checked on
 * that very MsgBody text. Throws the same ValidationError as `parseBroadcastRequest`.
 */
export function serializeBroadcastRequest(input: unknown, pickRandom: (random: number | undefined) => number): { body: string; random: number } {
  const fast = fastRequest(input);
  if (fast) return assembleBody(fast.From_Account, pickRandom(fast.Random), fast.msgBody, fast.CloudCustomData);
  return serializeWithSchema(input, pickRandom);
}

/** `serializeBroadcastRequest` through the zod schema alone (what the fast path must always agree with). */
export function serializeWithSchema(input: unknown, pickRandom: (random: number | undefined) => number): { body: string; random: number } {
  const request = parseWith(broadcastRequestShapeSchema, input);
  let msgBody: string;
  try {
    msgBody = JSON.stringify(request.MsgBody);
  } catch {
    throw new ValidationError('invalid broadcast request', [{ path: ['MsgBody'], message: 'MsgBody cannot be serialized as JSON' }]);
  }
  const bytes = Buffer.byteLength(msgBody, 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) throw new ValidationError('invalid broadcast request', [{ path: ['MsgBody'], message: sizeIssue(bytes).message }]);
  return assembleBody(request.From_Account, pickRandom(request.Random), msgBody, request.CloudCustomData);
}

function assembleBody(from: string | undefined, random: number, msgBody: string, cloudCustomData: string | undefined): { body: string; random: number } {
  let body = '{';
  if (from !== undefined) body += `"From_Account":${JSON.stringify(from)},`;
  body += `"Random":${random},"MsgBody":${msgBody}`;
  if (cloudCustomData !== undefined) body += `,"CloudCustomData":${JSON.stringify(cloudCustomData)}`;
  return { body: body + '}', random };
}

function parseWith<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError('invalid broadcast request', toIssues(result.error));
  return result.data;
}
