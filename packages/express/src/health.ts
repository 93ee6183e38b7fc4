import { ValidationError } from '@tim-broadcast/core';
import type { Broadcaster } from '@tim-broadcast/rate-limit';
import { sendJson, type RequestFields, type RequestHandlerLike } from './http';

export interface HealthHandlerOptions {
  /** The broadcaster to report on; leave it out when `broadcastMiddleware()` runs earlier. */
  broadcast?: Broadcaster;
}

/**
 * A handler answering the broadcaster's health as JSON: 200 when `status` is `'up'`, 503 when `'down'`
 * (closed, or the rate-limit store failing). Mount it with `app.get('/health', createHealthHandler())`.
 */
export function createHealthHandler(options: HealthHandlerOptions = {}): RequestHandlerLike {
  const { broadcast } = options;
  if (broadcast !== undefined && typeof broadcast?.health !== 'function') {
    throw new ValidationError('invalid health handler options', [{ path: ['broadcast'], message: 'expected a Broadcaster from createBroadcaster()' }]);
  }
  return (req, res, next) => {
    const broadcaster = broadcast ?? ((req as RequestFields).broadcast as Broadcaster | undefined);
    if (!broadcaster) {
      next(new Error('no broadcaster: use broadcastMiddleware() before the health handler, or pass { broadcast }'));
      return;
    }
    const health = broadcaster.health();
    sendJson(res, health.status === 'up' ? 200 : 503, health);
  };
}
