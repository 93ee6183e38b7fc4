import type { FactoryProvider, ModuleMetadata, Provider, Type } from '@nestjs/common';
import type { BroadcasterOptions, BroadcastOutboxOptions } from '@tim-broadcast/rate-limit';

/**
 * What `createBroadcaster` takes: the client options (`sdkAppId`, `secretKey`, `identifier`, `region` or `baseUrl`,
 * `transport`, `retry`, ...), `rateLimit` (`ratePerSecond`, `redis` client or URL), `coalesce`, `maxQueued`,
 * `maxBytes` and `shutdownTimeoutMs`. Annotate a factory's return type with it, so that `region: 'singapore'`
 * is checked as a `Region` rather than widened to `string`.
 */
export type BroadcastModuleOptions = BroadcasterOptions & {
  /**
   * Accept broadcasts into a durable Redis outbox (`BroadcastService.enqueue()`), delivered by this process unless
   * `deliver: false`. Needs the optional package `@tim-broadcast/outbox`.
   */
  outbox?: BroadcastOutboxOptions;
};

export interface BroadcastOptionsFactory {
  createBroadcastOptions(): BroadcastModuleOptions | Promise<BroadcastModuleOptions>;
}

interface RegistrationOptions {
  /**
   * Registers a named broadcaster (e.g. one per Tencent Cloud Chat app): inject it with `@InjectBroadcast('eu')`.
   * Without a name (or `'default'`) it is the unnamed registration, injected as `BroadcastService`.
   */
  name?: string;
  /** Register the module globally, so feature modules inject its service without importing it (default false). */
  isGlobal?: boolean;
}

export type BroadcastModuleRootOptions = BroadcastModuleOptions & RegistrationOptions;

export interface BroadcastModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'>, RegistrationOptions {
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
