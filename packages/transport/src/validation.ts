import { TimBroadcastError } from './errors';

export interface ValidationIssue {
  /** Where the problem is, e.g. `['MsgBody', 0, 'MsgContent', 'Text']` or `['retry', 'attempts']`. */
  path: PropertyKey[];
  message: string;
}

/** Formats a path as `MsgBody[0].MsgContent.Text`; the empty path is `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of Array.isArray(path) ? path : []) {
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
