export { createOutbox, type Outbox, type OutboxHealth, type EnqueueResult } from './outbox';
export type { OutboxOptions, OutboxClock, EnqueueOptions, WaitOptions } from './options';
export type { OutboxHooks } from './hooks';
export type { OutboxState, OutboxStatus } from './status';
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
