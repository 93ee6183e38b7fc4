import { fetchTransport, type Transport } from '@tim-broadcast/core';

declare const require: NodeJS.Require | undefined;

type UndiciEntry = typeof import('@tim-broadcast/transport/undici');

/** Most sockets the registry's own transport opens to one host; undici opens them only as calls need them. */
export const DEFAULT_REGISTRY_CONNECTIONS = 256;

/**
 * The transport a registry makes when given none: an undici pool (`@tim-broadcast/transport/undici`) when undici
 * is installed (it is an optional peer), else `fetch`. Loaded the way this build loads modules (require for
 * CommonJS, import for ESM), so the error classes it throws are the ones the rest of the build checks for.
 */
export async function defaultTransport(): Promise<Transport> {
  let entry: UndiciEntry;
  try {
    entry = typeof require === 'function' ? require('@tim-broadcast/transport/undici') : await import('@tim-broadcast/transport/undici');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') return fetchTransport();
    throw err;
  }
  return entry.undiciTransport({ connections: DEFAULT_REGISTRY_CONNECTIONS });
}
