import { TimBroadcastError } from '@tim-broadcast/transport';
import { describeErrorCode, isRetryableCategory, type ErrorCategory } from './codes';

export interface ValidationIssue {
  /** Where the problem is, e.g. `['MsgBody', 0, 'MsgContent', 'Text']`. */
  path: PropertyKey[];
  message: string;
}

/** Formats a path as `MsgBody[0].MsgContent.Text`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(root)';
}

/** Input (a request or options) is wrong. Nothing was sent. */
export class ValidationError extends TimBroadcastError {
  override name = 'ValidationError';
  readonly issues: ValidationIssue[];

  constructor(summary: string, issues: ValidationIssue[]) {
    super(issues.length ? `${summary}: ${issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}` : summary);
    this.issues = issues;
  }
}

/** Tencent answered with a non-zero `ErrorCode`. */
export class ApiError extends TimBroadcastError {
  override name = 'ApiError';
  readonly code: number;
  /** `ErrorInfo` as sent by the server. */
  readonly info: string;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  /** HTTP attempts made before giving up. */
  attempts: number;
  /** The body `Random` that was sent, so a later retry by you can reuse it. */
  readonly random: number | undefined;

  constructor(code: number, info: string, options: { attempts?: number; random?: number } = {}) {
    const { category, hint } = describeErrorCode(code);
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
