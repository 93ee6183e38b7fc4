import { unknownOptionIssues, ValidationError, type ValidationIssue } from '@tim-broadcast/core';
import type { z } from 'zod';

/**
 * Parses `input` with a strict object schema, throwing a ValidationError that names each bad field. Unknown top-level
 * keys are reported by core's `unknownOptionIssues` (naming the closest known option) instead of zod's bare
 * "unrecognized key". `path` prefixes every issue (e.g. `['faults']`).
 */
export function validate<T>(schema: z.ZodObject, input: unknown, summary: string, path: PropertyKey[] = []): T {
  const isObject = typeof input === 'object' && input !== null && !Array.isArray(input);
  const issues: ValidationIssue[] = isObject ? unknownOptionIssues(input, Object.keys(schema.shape), path) : [];
  const result = schema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys' && issue.path.length === 0) continue;
      issues.push({ path: [...path, ...issue.path], message: issue.message });
    }
  }
  if (issues.length) throw new ValidationError(summary, issues);
  return (result as { data: T }).data;
}
