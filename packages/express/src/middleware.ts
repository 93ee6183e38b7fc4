import { createBroadcaster, type Broadcaster, type BroadcasterOptions } from '@tim-broadcast/rate-limit';
import type { RequestFields, RequestHandlerLike } from './http';

declare global {
  namespace Express {
    interface Request {
      /** The app's broadcaster, set by `broadcastMiddleware()`: `req.broadcast.send({ MsgBody: [text('hi')] })`. */
      broadcast: Broadcaster;
    }
  }
}

/** The middleware, carrying the broadcaster it shares between requests. */
export interface BroadcastMiddleware extends RequestHandlerLike {
  readonly broadcaster: Broadcaster;
  /** Drains the queue and releases the client; same as `closeBroadcast(middleware)`. */
  close(): Promise<void>;
}

const middlewares = new WeakSet<object>();

/** Whether `value` was made by `broadcastMiddleware()`. */
export function isBroadcastMiddleware(value: unknown): value is BroadcastMiddleware {
  return typeof value === 'function' && middlewares.has(value);
}

/**
 * Creates one broadcaster (client, limiter, queue) for the app and exposes it on every request as `req.broadcast`.
 * The options are those of `createBroadcaster()` and are validated here, at once: a mistake throws a
 * `ValidationError` naming the field before the app serves anything.
 */
export function broadcastMiddleware(options: BroadcasterOptions): BroadcastMiddleware {
  const broadcaster = createBroadcaster(options);
  const middleware: RequestHandlerLike = (req, _res, next) => {
    (req as RequestFields).broadcast = broadcaster;
    next();
  };
  const result = Object.assign(middleware, { broadcaster, close: () => broadcaster.close() });
  middlewares.add(result);
  return result;
}
