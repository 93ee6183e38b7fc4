import { closestName, parseBroadcastRequest, text, toIssues, ValidationError, type BroadcastRequest, type ValidationIssue } from '@tim-broadcast/core';
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

const simpleBroadcastSchema = z.object({
  text: z.string().min(1, { error: 'expected a non-empty string' }),
  from: z.string().min(1, { error: 'expected a non-empty string' }).optional(),
  cloudCustomData: z.string().optional(),
});

const REQUEST_FIELDS = ['MsgBody', 'From_Account', 'CloudCustomData', 'Random'];
const SHORT_FIELDS = ['text', 'from', 'cloudCustomData'];
const BOTH_FORMS = 'send the documented request (MsgBody, From_Account, CloudCustomData, Random) or the short form (text, from, cloudCustomData)';

/** Where a problem in the converted request lies in the short form. */
const SIMPLE_FIELD: Record<string, string> = { MsgBody: 'text', From_Account: 'from', CloudCustomData: 'cloudCustomData' };

/**
 * A request body → a validated broadcast request. Accepts the documented `send_broadcast_msg` body
 * (`MsgBody`, `From_Account`, `CloudCustomData`, `Random`) or the short form `{ text, from?, cloudCustomData? }`.
 * An unknown field is refused with the closest known name of either form (`txt` → "did you mean 'text'?").
 */
export function toBroadcastRequest(body: unknown): BroadcastRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return parseBroadcastRequest(body);
  const isShortForm = !('MsgBody' in body) && 'text' in body;
  const fields = isShortForm ? SHORT_FIELDS : REQUEST_FIELDS;
  const given = body as Record<string, unknown>;
  const issues = Object.keys(given)
    .filter((key) => !fields.includes(key))
    .map((key) => unknownFieldIssue(key, isShortForm));
  const known = Object.fromEntries(fields.filter((key) => Object.hasOwn(given, key)).map((key) => [key, given[key]]));

  let request: BroadcastRequest | undefined;
  try {
    request = isShortForm ? fromShortForm(known) : parseBroadcastRequest(known);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const missingBody = !isShortForm && !('MsgBody' in known);
    for (const issue of err.issues) {
      if (missingBody && issue.path.length === 1 && issue.path[0] === 'MsgBody') {
        issues.push({ path: ['MsgBody'], message: `required: ${BOTH_FORMS}` });
      } else issues.push(issue);
    }
  }
  if (issues.length || !request) throw new ValidationError('invalid broadcast request', issues);
  return request;
}

function unknownFieldIssue(key: string, isShortForm: boolean): ValidationIssue {
  const otherForm = isShortForm ? REQUEST_FIELDS : SHORT_FIELDS;
  if (otherForm.includes(key)) {
    return { path: [key], message: `belongs to the ${isShortForm ? 'documented request' : 'short form'}; do not mix the two forms` };
  }
  const near = closestName(key, [...SHORT_FIELDS, ...REQUEST_FIELDS]);
  return { path: [key], message: `unknown field${near ? ` (did you mean '${near}'?)` : ''}; ${BOTH_FORMS}` };
}

function fromShortForm(body: Record<string, unknown>): BroadcastRequest {
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
