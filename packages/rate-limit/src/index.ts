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
export { createBroadcastRegistry, type BroadcastRegistry, type RegistryHealth } from './registry';
export type { AppCredentials, BroadcastRegistryOptions, CredentialsProvider, RegistryDefaults } from './registry-options';
export { CredentialsError, RegistryFullError, type CredentialsFailure } from './errors';
