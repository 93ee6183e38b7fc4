export { createRateLimiter, DEFAULT_MAX_WAIT_MS, type RateLimiter, type RateLimiterOptions, type RateModel } from './limiter';
export { systemClock, type Clock } from './clock';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory';
export { RedisStore, GCRA_SCRIPT, type IoRedisLike, type NodeRedisLike, type RedisStoreOptions, type RedisSubscriberLike } from './stores/redis';
export type { RateLimitStore, ReserveRequest, FreedListener } from './stores/store';
export { StoreError, LimiterClosedError } from './errors';
export { createBroadcastQueue, type BroadcastQueue, type BroadcastQueueOptions, type QueueResult, type QueueSendOptions } from './queue';
export {
  createBroadcaster,
  type Broadcaster,
  type BroadcasterOptions,
  type BroadcasterExtraOptions,
  type BroadcasterHealth,
  type BroadcasterRateLimitOptions,
} from './broadcaster';
export { nextBatchSize, mergeBatch, planBatches, packable, type Packable, type PackOptions } from './pack';
export { httpErrorResponse, type HttpErrorDescription, type HttpErrorResponse, type HttpErrorContext } from './http-error';
// For framework integrations (the NestJS and Express packages' `outbox` option) and the outbox package; see the README.
export { openOutbox, outboxOptionIssues, withSharedLimiter, type AppOutbox, type BroadcastOutboxOptions, type OpenOutboxContext, type OutboxFactory } from './outbox-option';
export type { Outbox, OutboxHooks, OutboxHealth, OutboxState, OutboxStatus, EnqueueOptions, EnqueueResult, WaitOptions } from './outbox-contract';
export { createBroadcastRegistry, type BroadcastRegistry, type RegistryHealth } from './registry';
export type { AppCredentials, BroadcastRegistryOptions, CredentialsProvider, RegistryDefaults } from './registry-options';
export { CredentialsError, RegistryFullError, type CredentialsFailure } from './errors';
