import { ValidationError } from '@tim-broadcast/core';

/** The ValidationError `fn` throws; anything else it throws is rethrown, and throwing nothing fails the test. */
export function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

/** `path: message` for each issue of the ValidationError `fn` throws. */
export function issueMessages(fn: () => unknown): string[] {
  return validationError(fn).issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}
