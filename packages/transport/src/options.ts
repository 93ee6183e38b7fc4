import { ValidationError, type ValidationIssue } from './validation';

/**
 * One style for checking option objects in every package: unknown keys are refused with the closest known name,
 * numbers are checked against what timers and sizes can take, and all issues are reported at once.
 */

/** The largest delay `setTimeout` honours (2^31 − 1 ms, about 24.8 days); larger ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The known name closest to `name` (case-insensitive edit distance ≤ 1/3 of its length, or a prefix), if any. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  // option names are short; a long or non-string name has no useful neighbour (and must not cost a big table)
  if (typeof name !== 'string' || name.length > 64) return undefined;
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  const iterable = typeof (known as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] === 'function';
  for (const candidate of iterable ? known : []) {
    if (typeof candidate !== 'string') continue;
    const c = candidate.toLowerCase();
    let score = editDistance(lower, c);
    if (c.startsWith(lower) || lower.startsWith(c)) score = Math.min(score, 1);
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.ceil(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** An issue per own key of `options` not in `known`: "unknown option (did you mean 'timeoutMs'?)". */
export function unknownOptionIssues(options: object, known: readonly string[] | ReadonlySet<string>, path: PropertyKey[] = []): ValidationIssue[] {
  if (typeof options !== 'object' || options === null) return [];
  const names = known instanceof Set ? known : new Set(Array.isArray(known) ? known : []);
  if (!Array.isArray(path)) path = [];
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(options)) {
    if (names.has(key)) continue;
    const near = closestName(key, names);
    issues.push({ path: [...path, key], message: `unknown option${near ? ` (did you mean '${near}'?)` : ''}; known: ${[...names].join(', ')}` });
  }
  return issues;
}

export interface NumberRule {
  /** Smallest allowed value (default 0). */
  min?: number;
  /** Whether `min` itself is allowed (default true). */
  minInclusive?: boolean;
  /** Largest allowed value (default MAX_TIMER_MS for `ms`, Number.MAX_SAFE_INTEGER otherwise). */
  max?: number;
  /** Only integers. */
  integer?: boolean;
}

/**
 * An issue when `value` is set and is not a finite number within the rule, else undefined. `kind` words the
 * message: 'ms' (a delay a timer can take), 'count', 'bytes', 'number'.
 */
export function numberIssue(value: unknown, path: PropertyKey[], kind: 'ms' | 'count' | 'bytes' | 'number', rule: NumberRule = {}): ValidationIssue | undefined {
  if (value === undefined) return undefined;
  if (typeof rule !== 'object' || rule === null) rule = {};
  const min = rule.min ?? 0;
  const minInclusive = rule.minInclusive ?? true;
  const max = rule.max ?? (kind === 'ms' ? MAX_TIMER_MS : Number.MAX_SAFE_INTEGER);
  const integer = rule.integer ?? (kind === 'count' || kind === 'bytes');
  const ok =
    typeof value === 'number' && Number.isFinite(value) && (minInclusive ? value >= min : value > min) && value <= max && (!integer || Number.isInteger(value));
  if (ok) return undefined;
  const unit = kind === 'ms' ? ' ms' : kind === 'bytes' ? ' bytes' : '';
  const what = integer ? 'an integer' : 'a finite number';
  const range = `${minInclusive ? '≥' : '>'} ${min}${unit} and ≤ ${max}${unit}`;
  return { path, message: `expected ${what} ${range}, got ${describeValue(value)}` };
}

/** A short, secret-free description of a bad value for messages: type and, for numbers and booleans, the value. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return 'a string';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** An issue when `value` is set and is not an AbortSignal. */
export function signalIssue(value: unknown, path: PropertyKey[] = ['signal']): ValidationIssue | undefined {
  if (value === undefined || value instanceof AbortSignal) return undefined;
  return { path, message: `expected an AbortSignal, got ${describeValue(value)}` };
}

/** Throws a ValidationError listing `issues` (dropping undefined entries) when there are any. */
export function throwIfIssues(summary: string, issues: readonly (ValidationIssue | undefined)[]): void {
  const found = (Array.isArray(issues) ? issues : []).filter((i): i is ValidationIssue => i !== undefined);
  if (found.length) throw new ValidationError(summary, found);
}

/** An issue when `value` is not a plain options object (undefined allowed when `optional`). */
export function objectIssue(value: unknown, path: PropertyKey[], optional = false): ValidationIssue | undefined {
  if (optional && value === undefined) return undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return undefined;
  return { path, message: `expected an options object, got ${describeValue(value)}` };
}
