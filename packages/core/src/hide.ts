import { inspect } from 'node:util';

/**
 * Gives an object a safe face for `util.inspect`, `JSON.stringify` and `String()`: only `shown` is printed.
 * The objects it is used on keep secrets in closures, never in properties; this keeps their printed form tidy and stable.
 */
export function hideInternals<T extends object>(target: T, name: string, shown: Record<string, unknown>): T {
  const text = `${name} ${inspect(shown, { breakLength: Infinity })}`;
  Object.defineProperties(target, {
    [inspect.custom]: { value: () => text, enumerable: false },
    toJSON: { value: () => ({ ...shown }), enumerable: false },
    toString: { value: () => text, enumerable: false },
  });
  return target;
}
