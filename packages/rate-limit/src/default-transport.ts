import { createRequire } from 'node:module';
import { fetchTransport, type Transport } from '@tim-broadcast/core';

/** Whether this is the CommonJS build (whose `import.meta.url` is that of its `.cjs` file). */
const COMMON_JS = import.meta.url.endsWith('.cjs');

type UndiciEntry = typeof import('@tim-broadcast/transport/undici');

/** Most sockets the registry's own transport opens to one host; undici opens them only as calls need them. */
export const DEFAULT_REGISTRY_CONNECTIONS = 256;

/**
 * The transport a registry makes when given none: an undici pool (`@tim-broadcast/transport/undici`) when undici
 * is installed (it is an optional peer), else `fetch`. Loaded in this build's own format — require from the
 * CommonJS build, import from the ESM one — so the errors it throws are the classes the rest of the build knows
 * (the ESM build has a `require` too, which would load the CommonJS copy).
 */
export async function defaultTransport(): Promise<Transport> {
  let entry: UndiciEntry;
  try {
    entry = COMMON_JS ? createRequire(import.meta.url)('@tim-broadcast/transport/undici') : await import('@tim-broadcast/transport/undici');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') return fetchTransport();
    throw err;
  }
  return entry.undiciTransport({ connections: DEFAULT_REGISTRY_CONNECTIONS });
}
