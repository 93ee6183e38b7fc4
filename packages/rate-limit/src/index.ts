export { createRateLimiter, DEFAULT_SAFETY_MARGIN_MS, type RateLimiter, type RateLimiterOptions } from './limiter';
export { MemoryStore } from './stores/memory';
export { RedisStore, GCRA_SCRIPT, type IoRedisLike, type NodeRedisLike, type RedisStoreOptions } from './stores/redis';
export type { RateLimitStore, ReserveRequest } from './stores/store';
export { StoreError, LimiterClosedError } from './errors';
export { createBroadcastQueue, type BroadcastQueue, type BroadcastQueueOptions, type QueueResult, type QueueSendOptions } from './queue';
export {
  createBroadcaster,
  type Broadcaster,
  type BroadcasterOptions,
  type BroadcasterHealth,
  type BroadcasterRateLimitOptions,
} from './broadcaster';
export { nextBatchSize, mergeBatch, planBatches, packable, type Packable, type PackOptions } from './pack';
export { httpErrorResponse, type HttpErrorDescription, type HttpErrorResponse, type HttpErrorContext } from './http-error';
