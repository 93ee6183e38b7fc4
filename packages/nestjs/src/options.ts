import type { FactoryProvider, ModuleMetadata, Provider, Type } from '@nestjs/common';
import type { BroadcasterOptions } from '@tim-broadcast/rate-limit';

/**
 * What `createBroadcaster` takes: the client options (`sdkAppId`, `secretKey`, `identifier`, `region` or `baseUrl`,
 * `transport`, `retry`, ...), `rateLimit` (`ratePerSecond`, `redis` client or URL), `coalesce`, `maxQueued`,
 * `maxBytes` and `shutdownTimeoutMs`.
 */
export type BroadcastModuleOptions = BroadcasterOptions;

export interface BroadcastOptionsFactory {
  createBroadcastOptions(): BroadcastModuleOptions | Promise<BroadcastModuleOptions>;
}

/** `BroadcastModuleOptions` (a union: `region` or `baseUrl`), plus `isGlobal`. */
export type BroadcastModuleRootOptions = BroadcastModuleOptions & {
  /** Register the module globally, so feature modules inject `BroadcastService` without importing it (default false). */
  isGlobal?: boolean;
};

export interface BroadcastModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  isGlobal?: boolean;
  /** Providers handed to `useFactory`, in order. */
  inject?: FactoryProvider['inject'];
  useFactory?: (...args: any[]) => BroadcastModuleOptions | Promise<BroadcastModuleOptions>;
  /** A class the module instantiates; its `createBroadcastOptions()` gives the options. */
  useClass?: Type<BroadcastOptionsFactory>;
  /** An existing provider (from `imports`) implementing `createBroadcastOptions()`. */
  useExisting?: Type<BroadcastOptionsFactory>;
  /** More providers for the module, e.g. something `useFactory` injects. */
  extraProviders?: Provider[];
}
