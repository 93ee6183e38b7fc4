export { BroadcastModule } from './broadcast.module';
export { BroadcastService, type BroadcastSendOptions } from './broadcast.service';
export { BroadcastExceptionFilter } from './broadcast-exception.filter';
export { InjectBroadcast, getBroadcastServiceToken } from './inject';
export {
  BROADCAST_CLIENT,
  BROADCAST_OPTIONS,
  BROADCASTER,
  DEFAULT_BROADCAST_NAME,
  getBroadcastClientToken,
  getBroadcasterToken,
  getBroadcastOptionsToken,
} from './tokens';
export type { BroadcastModuleAsyncOptions, BroadcastModuleOptions, BroadcastModuleRootOptions, BroadcastOptionsFactory } from './options';
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

// What a Nest app needs from the lower packages, so that installing this one package is enough.
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
  type BroadcastClient,
  type BroadcastRequest,
  type BroadcastRequestInput,
  type BroadcastResult,
  type ValidationIssue,
  type Region,
  type Logger as BroadcastLogger,
} from '@tim-broadcast/core';
export {
  StoreError,
  LimiterClosedError,
  httpErrorResponse,
  type Broadcaster,
  type BroadcasterHealth,
  type QueueResult,
  type QueueSendOptions,
  type HttpErrorDescription,
  type HttpErrorResponse,
} from '@tim-broadcast/rate-limit';
