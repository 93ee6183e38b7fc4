export { createOutbox } from './outbox';
export type { OutboxOptions, OutboxClock } from './options';
// declared in rate-limit, so that the NestJS and Express packages can hand them out without importing this package
export type { Outbox, OutboxHealth, EnqueueResult, EnqueueOptions, WaitOptions, OutboxHooks, OutboxState, OutboxStatus } from '@tim-broadcast/rate-limit';
export type { OutboxRedis, IoRedisLike, NodeRedisLike } from './redis';
export {
  OutboxFailedError,
  OutboxExpiredError,
  OutboxUncertainError,
  OutboxNotFoundError,
  OutboxClosedError,
  OutboxRedisError,
  OutboxWaitTimeoutError,
} from './errors';
export { DEDUP_WINDOW_MS, RESEND_WINDOW_MS } from './window';
