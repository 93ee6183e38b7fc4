export {
  broadcastMiddleware,
  DEFAULT_APP,
  type BroadcastMiddleware,
  type BroadcastMiddlewareOptions,
  type BroadcastAppsOptions,
  type MultiAppBroadcastMiddleware,
} from './middleware';
export { UnknownAppError, type BroadcastApps } from './apps';
export { createBroadcastRouter, DEFAULT_ROUTER_DEADLINE_MS, type BroadcastRouterOptions } from './router';
export { closeBroadcast } from './close';
export { createHealthHandler, type AppHealth, type AppsHealth, type HealthHandlerOptions, type OutboxHealthReport } from './health';
export { bearerAuthorize, MIN_BEARER_TOKEN_LENGTH, type Authorize, type AuthorizeResult } from './auth';
export { MAX_BODY_LIMIT } from './body';
export { toBroadcastRequest, type SimpleBroadcast } from './request-body';
export type { NextFunctionLike, RequestHandlerLike } from './http';
export type {
  BroadcastOutboxOptions,
  Outbox,
  OutboxHooks,
  OutboxHealth,
  OutboxState,
  OutboxStatus,
  EnqueueOptions,
  EnqueueResult,
  WaitOptions,
} from '@tim-broadcast/rate-limit';

// What an Express app needs from the lower packages, so that installing this one package is enough.
export {
  text,
  custom,
  face,
  location,
  sound,
  image,
  file,
  video,
  relay,
  TimBroadcastError,
  ValidationError,
  ApiError,
  TransportError,
  TimeoutError,
  AbortError,
  QueueFullError,
  QueueClosedError,
  formatPath,
  type BroadcastRequest,
  type BroadcastRequestInput,
  type BroadcastResult,
  type ValidationIssue,
  type Region,
  type Logger,
} from '@tim-broadcast/core';
export {
  StoreError,
  LimiterClosedError,
  httpErrorResponse,
  type Broadcaster,
  type BroadcasterOptions,
  type BroadcasterHealth,
  type QueueResult,
  type QueueSendOptions,
  type HttpErrorDescription,
  type HttpErrorResponse,
} from '@tim-broadcast/rate-limit';
