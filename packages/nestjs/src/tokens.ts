// Symbol.for: the same token even if both the ESM and the CJS build of this package end up loaded.

/** The options the module was configured with (`BroadcastModuleOptions`). Override it in tests to point at the emulator. */
export const BROADCAST_OPTIONS: unique symbol = Symbol.for('@tim-broadcast/nestjs:options');
/** The `Broadcaster` (client + limiter + queue) built from the options. */
export const BROADCASTER: unique symbol = Symbol.for('@tim-broadcast/nestjs:broadcaster');
/** The `BroadcastClient` for direct calls, bypassing the queue (`BroadcastService.client`). */
export const BROADCAST_CLIENT: unique symbol = Symbol.for('@tim-broadcast/nestjs:client');
