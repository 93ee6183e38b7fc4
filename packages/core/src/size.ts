import { ValidationError } from './errors/classes';
import { nestingIssue } from './schemas/depth';

/** The documented limit for one (merged) broadcast message, in bytes. */
export const MAX_MESSAGE_BYTES = 12_000;

/**
 * The size the SDK accounts for: UTF-8 bytes of `JSON.stringify(MsgBody)`. The docs do not define how
 * Tencent counts; this is the conservative reading, and the server keeps the final say (80002).
 * Throws ValidationError for anything that is not a JSON array within the nesting bounds (see MAX_RELAY_DEPTH).
 */
export function messageBytes(msgBody: readonly unknown[]): number {
  if (!Array.isArray(msgBody)) throw new ValidationError('cannot measure MsgBody', [{ path: ['MsgBody'], message: 'expected an array' }]);
  const deep = nestingIssue(msgBody);
  if (deep) throw new ValidationError('cannot measure MsgBody', [{ path: ['MsgBody', ...deep.path], message: deep.message }]);
  return serializedBytes(msgBody);
}

/** `messageBytes` for a MsgBody already known to be within the nesting bounds. */
export function serializedBytes(msgBody: readonly unknown[]): number {
  let text: string;
  try {
    text = JSON.stringify(msgBody);
  } catch {
    throw new ValidationError('cannot measure MsgBody', [{ path: ['MsgBody'], message: 'cannot be serialized as JSON' }]);
  }
  return Buffer.byteLength(text, 'utf8');
}
