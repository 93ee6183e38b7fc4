/** What `fn` threw or rejected with, or 'returned'. */
export async function outcome(fn: () => unknown): Promise<unknown> {
  try {
    const value = fn();
    if (value instanceof Promise) await value;
    return 'returned';
  } catch (err) {
    return err;
  }
}

/** The names of a module's exported functions that are not classes, sorted. */
export function exportedFunctionNames(exports: Record<string, unknown>): string[] {
  const isClass = (fn: Function) => /^class\b/.test(Function.prototype.toString.call(fn));
  return Object.entries(exports)
    .filter(([, v]) => typeof v === 'function' && !isClass(v as Function))
    .map(([name]) => name)
    .sort();
}
