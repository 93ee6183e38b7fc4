import { redactUserSig, TimBroadcastError } from '@tim-broadcast/transport';
import { describeErrorCode, isRetryableCategory, type ErrorCategory } from './codes';

export { ValidationError, formatPath, type ValidationIssue } from '@tim-broadcast/transport';

/** Longest `ErrorInfo` kept; an upstream may send anything. */
const MAX_INFO_LENGTH = 1_000;

/** Tencent answered with a non-zero `ErrorCode`. */
export class ApiError extends TimBroadcastError {
  override name = 'ApiError';
  readonly code: number;
  /** `ErrorInfo` as sent by the server, with any `usersig` value redacted and cut at 1,000 characters. */
  readonly info: string;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  /** HTTP attempts made before giving up. */
  attempts: number;
  /** The body `Random` that was sent, so a later retry by you can reuse it. */
  readonly random: number | undefined;

  constructor(code: number, info: string, options: { attempts?: number; random?: number } = {}) {
    const { category, hint } = describeErrorCode(code);
    info = redactUserSig(typeof info === 'string' ? info : '');
    if (info.length > MAX_INFO_LENGTH) info = `${info.slice(0, MAX_INFO_LENGTH)}…`;
    super(`Tencent Cloud Chat error ${code}${info ? ` (${info})` : ''}: ${hint}`);
    this.code = code;
    this.info = info;
    this.category = category;
    this.retryable = isRetryableCategory(category);
    this.attempts = options.attempts ?? 1;
    this.random = options.random;
  }
}

/** The queue already holds `maxQueued` broadcasts; nothing was queued. */
export class QueueFullError extends TimBroadcastError {
  override name = 'QueueFullError';
  readonly maxQueued: number;

  constructor(maxQueued: number) {
    super(`broadcast queue is full (${maxQueued} waiting); retry later or raise maxQueued`);
    this.maxQueued = maxQueued;
  }
}

/** The queue was closed before this broadcast could be sent; it was not sent. */
export class QueueClosedError extends TimBroadcastError {
  override name = 'QueueClosedError';

  constructor(message = 'broadcast queue is closed; the broadcast was not sent') {
    super(message);
  }
}
