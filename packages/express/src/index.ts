export { broadcastMiddleware, type BroadcastMiddleware } from './middleware';
export { createBroadcastRouter, type BroadcastRouterOptions } from './router';
export { closeBroadcast } from './close';
export { createHealthHandler, type HealthHandlerOptions } from './health';
export { bearerAuthorize, MIN_BEARER_TOKEN_LENGTH, type Authorize, type AuthorizeResult } from './auth';
export { toBroadcastRequest, type SimpleBroadcast } from './request-body';
export type { NextFunctionLike, RequestHandlerLike } from './http';
export type { Broadcaster, BroadcasterOptions, BroadcasterHealth } from '@tim-broadcast/rate-limit';
