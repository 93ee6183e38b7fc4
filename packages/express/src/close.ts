import { isBroadcastMiddleware } from './middleware';

type Closable = { close(): Promise<void> };

interface LayerLike {
  handle?: unknown;
}

/** The layers of an Express 4 app (`_router`), an Express 5 app (`router`), or a Router (`stack`). */
function layersOf(target: object): LayerLike[] {
  const t = target as { stack?: unknown; _router?: { stack?: unknown } };
  if (Array.isArray(t.stack)) return t.stack;
  if (t._router && Array.isArray(t._router.stack)) return t._router.stack;
  if (!('_router' in t)) {
    try {
      // Express 5's app.router; Express 4's throws (deprecated getter), and it has no layers then anyway
      const router = (t as { router?: { stack?: unknown } }).router;
      if (router && Array.isArray(router.stack)) return router.stack;
    } catch {
      // not an Express 5 app
    }
  }
  return [];
}

function findMiddlewares(target: object, found: Set<Closable>, seen: Set<object>): void {
  if (seen.has(target)) return;
  seen.add(target);
  for (const layer of layersOf(target)) {
    const handle = layer?.handle;
    if (isBroadcastMiddleware(handle)) found.add(handle);
    else if (typeof handle === 'function' && Array.isArray((handle as { stack?: unknown }).stack)) findMiddlewares(handle, found, seen);
  }
}

/**
 * Drains and closes the broadcasters of `target` on shutdown: an app or Router (every `broadcastMiddleware()`
 * mounted on it or on Routers mounted in it), or a middleware itself. Queued broadcasts are sent, within the
 * broadcaster's `shutdownTimeoutMs`; what is left then fails with `QueueClosedError`, so every caller gets an answer.
 * Resolves with the number of broadcasters closed. Safe to call twice.
 */
export async function closeBroadcast(target: object): Promise<number> {
  const found = new Set<Closable>();
  if (isBroadcastMiddleware(target)) found.add(target);
  else findMiddlewares(target, found, new Set());
  await Promise.all([...found].map((middleware) => middleware.close()));
  return found.size;
}
