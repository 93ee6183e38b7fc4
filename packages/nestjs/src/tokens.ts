// Symbol.for: the same token even if both the ESM and the CJS build of this package end up loaded.

/** The name of the unnamed registration: `forRoot({ ... })` is the same as `forRoot({ name: 'default', ... })`. */
export const DEFAULT_BROADCAST_NAME = 'default';

/** The options the module was configured with (`BroadcastModuleOptions`). Override it in tests to point at the emulator. */
export const BROADCAST_OPTIONS: unique symbol = Symbol.for('@tim-broadcast/nestjs:options');
/** The `Broadcaster` (client + limiter + queue) built from the options. */
export const BROADCASTER: unique symbol = Symbol.for('@tim-broadcast/nestjs:broadcaster');
/** The `BroadcastClient` for direct calls, bypassing the queue (`BroadcastService.client`). */
export const BROADCAST_CLIENT: unique symbol = Symbol.for('@tim-broadcast/nestjs:client');

const isDefault = (name: string | undefined) => name === undefined || name === DEFAULT_BROADCAST_NAME;
const named = (kind: string, name: string) => Symbol.for(`@tim-broadcast/nestjs:${kind}:${name}`);

/** `BROADCAST_OPTIONS` of the registration `name` (the unnamed one's without a name). */
export function getBroadcastOptionsToken(name?: string): symbol {
  return isDefault(name) ? BROADCAST_OPTIONS : named('options', name!);
}

/** `BROADCASTER` of the registration `name` (the unnamed one's without a name). */
export function getBroadcasterToken(name?: string): symbol {
  return isDefault(name) ? BROADCASTER : named('broadcaster', name!);
}

/** `BROADCAST_CLIENT` of the registration `name` (the unnamed one's without a name). */
export function getBroadcastClientToken(name?: string): symbol {
  return isDefault(name) ? BROADCAST_CLIENT : named('client', name!);
}

/** The token of a named registration's `BroadcastService` (the unnamed one's token is the class itself). */
export function namedServiceToken(name: string): symbol {
  return named('service', name);
}

/** The registration's outbox (a `AppOutbox`, or null without the `outbox` option); internal. */
export function outboxToken(name: string): symbol {
  return named('outbox', name);
}
