import type { Broadcaster } from '@tim-broadcast/rate-limit';

/** The broadcaster whose full queue refused a broadcast, for the filter's Retry-After estimate. */
export const refusedBy = new WeakMap<object, Broadcaster>();
