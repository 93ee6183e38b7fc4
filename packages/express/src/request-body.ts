import { parseBroadcastRequest, text, toIssues, ValidationError, type BroadcastRequest, type ValidationIssue } from '@tim-broadcast/core';
import { z } from 'zod';

/** The short form of a text broadcast. */
export interface SimpleBroadcast {
  /** The text; sent as one `TIMTextElem`. */
  text: string;
  /** `From_Account`. */
  from?: string;
  /** `CloudCustomData`. */
  cloudCustomData?: string;
}

const simpleBroadcastSchema = z.strictObject({
  text: z.string().min(1, { error: 'expected a non-empty string' }),
  from: z.string().min(1, { error: 'expected a non-empty string' }).optional(),
  cloudCustomData: z.string().optional(),
});

/** Where a problem in the converted request lies in the short form. */
const SIMPLE_FIELD: Record<string, string> = { MsgBody: 'text', From_Account: 'from', CloudCustomData: 'cloudCustomData' };

/**
 * A request body → a validated broadcast request. Accepts the documented `send_broadcast_msg` body
 * (`MsgBody`, `From_Account`, `CloudCustomData`, `Random`) or the short form `{ text, from?, cloudCustomData? }`.
 */
export function toBroadcastRequest(body: unknown): BroadcastRequest {
  const isShortForm = typeof body === 'object' && body !== null && !Array.isArray(body) && !('MsgBody' in body) && 'text' in body;
  if (!isShortForm) return parseBroadcastRequest(body);

  const parsed = simpleBroadcastSchema.safeParse(body);
  if (!parsed.success) throw new ValidationError('invalid broadcast request', toIssues(parsed.error));
  const { text: content, from, cloudCustomData } = parsed.data;
  try {
    return parseBroadcastRequest({
      MsgBody: [text(content)],
      ...(from === undefined ? {} : { From_Account: from }),
      ...(cloudCustomData === undefined ? {} : { CloudCustomData: cloudCustomData }),
    });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const issues: ValidationIssue[] = err.issues.map((issue) => ({
      path: [SIMPLE_FIELD[String(issue.path[0])] ?? String(issue.path[0] ?? 'text')],
      message: issue.message,
    }));
    throw new ValidationError('invalid broadcast request', issues);
  }
}
