import { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors/classes';
import { MAX_MESSAGE_BYTES, messageBytes } from '../size';
import { msgElementSchema } from './elements';

export const UINT32_MAX = 0xffffffff;

export const uint32Schema = z
  .int({ error: 'expected an integer from 0 to 4294967295' })
  .min(0, { error: 'expected an integer from 0 to 4294967295' })
  .max(UINT32_MAX, { error: 'expected an integer from 0 to 4294967295' });

export const msgBodySchema = z
  .array(msgElementSchema)
  .min(1, { error: 'MsgBody needs at least one element' })
  .superRefine((body, ctx) => {
    let customs = 0;
    body.forEach((el, i) => {
      if (el.MsgType === 'TIMCustomElem' && ++customs === 2) {
        ctx.addIssue({ code: 'custom', path: [i, 'MsgType'], message: 'a message may hold at most one TIMCustomElem' });
      }
    });
    const bytes = messageBytes(body);
    if (bytes > MAX_MESSAGE_BYTES) {
      ctx.addIssue({
        code: 'custom',
        message: `MsgBody is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES} bytes (UTF-8 JSON)`,
        params: { bytes, limit: MAX_MESSAGE_BYTES },
      });
    }
  });

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
  return error.issues.map((issue) => ({ path: [...issue.path], message: issue.message }));
}

/** Validates a broadcast request; returns it typed, or throws a ValidationError listing each issue's path. */
export function parseBroadcastRequest(input: unknown): BroadcastRequest {
  const result = broadcastRequestSchema.safeParse(input);
  if (!result.success) throw new ValidationError('invalid broadcast request', toIssues(result.error));
  return result.data;
}
