/**
 * `@tim-broadcast/outbox` (an optional peer of this package), resolved from here in this build's own format: the
 * CommonJS build requires the outbox's CommonJS build, the ESM build imports its ESM build, so its error classes are
 * the ones the app imports.
 */
export function loadOutboxPackage(): unknown {
  // `module` exists only in the CommonJS build; ESM has no `module` binding
  if (typeof module === 'object' && module !== null && typeof module.require === 'function') return module.require('@tim-broadcast/outbox');
  return import('@tim-broadcast/outbox');
}
