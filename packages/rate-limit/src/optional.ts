import { ValidationError, type ValidationIssue } from '@tim-broadcast/core';

/**
 * Loads an optional peer dependency when a feature needs it, in this build's own module format: the CommonJS build
 * requires the package's CommonJS build, the ESM build imports its ESM build. Mixing them would load core twice, and
 * the errors the package throws would not be the classes the app imports (`instanceof` would fail). The NestJS and
 * Express packages load this package in their own format, so an app gets one format all the way down.
 * A missing package fails with a ValidationError at `path` naming the feature and the install command.
 * `load` resolves the package from elsewhere: a package that declares it as its own peer passes a loader written in
 * its own source (see `OpenOutboxContext.loadOutbox`), since Node resolves a name from the file that asks for it.
 */
export async function loadOptional<T>(
  specifier: string,
  need: { summary: string; path: PropertyKey[]; feature: string },
  load: () => unknown = () => loadInThisFormat(specifier),
): Promise<T> {
  try {
    return (await load()) as T;
  } catch (err) {
    if (!isNotFound(err, specifier)) throw err;
    const issue: ValidationIssue = { path: need.path, message: `${need.feature} needs the optional package ${specifier}: npm install ${specifier}` };
    throw new ValidationError(need.summary, [issue]);
  }
}

function isNotFound(err: unknown, specifier: string): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && String(message).includes(specifier);
}

function loadInThisFormat(specifier: string): unknown {
  // `module` exists only in the CommonJS build (and in CommonJS bundles); ESM has no `module` binding
  if (typeof module === 'object' && module !== null && typeof module.require === 'function') return module.require(specifier);
  return import(/* @vite-ignore */ specifier);
}
