/** The documented limit for one (merged) broadcast message, in bytes. */
export const MAX_MESSAGE_BYTES = 12_000;

/**
 * The size the SDK accounts for: UTF-8 bytes of `JSON.stringify(MsgBody)`. The docs do not define how
 * Tencent counts; this is the conservative reading, and the server keeps the final say (80002).
 */
export function messageBytes(msgBody: readonly unknown[]): number {
  return Buffer.byteLength(JSON.stringify(msgBody), 'utf8');
}
