import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ValidationError, type BroadcastClient } from '@tim-broadcast/core';
import { createBroadcaster, type Broadcaster } from '@tim-broadcast/rate-limit';
import { BroadcastService } from './broadcast.service';
import type { BroadcastModuleAsyncOptions, BroadcastModuleOptions, BroadcastModuleRootOptions, BroadcastOptionsFactory } from './options';
import { BROADCAST_CLIENT, BROADCAST_OPTIONS, BROADCASTER } from './tokens';

@Module({})
export class BroadcastModule {
  /** Configures the module with options known up front. */
  static forRoot(options: BroadcastModuleRootOptions): DynamicModule {
    const { isGlobal, ...rest } = options ?? ({} as BroadcastModuleRootOptions);
    return assemble([{ provide: BROADCAST_OPTIONS, useValue: rest }], { isGlobal });
  }

  /** Configures the module from other providers (e.g. `ConfigService`) with `useFactory`, `useClass` or `useExisting`. */
  static forRootAsync(options: BroadcastModuleAsyncOptions): DynamicModule {
    const given = (['useFactory', 'useClass', 'useExisting'] as const).filter((key) => options?.[key] !== undefined);
    if (given.length !== 1) {
      throw new ValidationError('invalid BroadcastModule.forRootAsync options', [
        { path: [given[1] ?? 'useFactory'], message: 'give exactly one of useFactory, useClass or useExisting' },
      ]);
    }
    const providers: Provider[] = [...(options.extraProviders ?? [])];
    if (options.useFactory) {
      providers.push({ provide: BROADCAST_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] });
    } else {
      const factoryClass = (options.useClass ?? options.useExisting)!;
      if (options.useClass) providers.push({ provide: factoryClass, useClass: factoryClass });
      providers.push({
        provide: BROADCAST_OPTIONS,
        useFactory: (factory: BroadcastOptionsFactory) => factory.createBroadcastOptions(),
        inject: [factoryClass],
      });
    }
    return assemble(providers, { isGlobal: options.isGlobal, imports: options.imports });
  }
}

function assemble(optionProviders: Provider[], extra: Pick<BroadcastModuleAsyncOptions, 'isGlobal' | 'imports'>): DynamicModule {
  return {
    module: BroadcastModule,
    global: extra.isGlobal ?? false,
    imports: extra.imports ?? [],
    providers: [
      ...optionProviders,
      { provide: BROADCASTER, useFactory: buildBroadcaster, inject: [BROADCAST_OPTIONS] },
      { provide: BROADCAST_CLIENT, useFactory: (broadcaster: Broadcaster): BroadcastClient => broadcaster.client, inject: [BROADCASTER] },
      BroadcastService,
    ],
    exports: [BROADCAST_OPTIONS, BROADCASTER, BROADCAST_CLIENT, BroadcastService],
  };
}

/** Validates every option at once; a bad one fails application start with a message naming the field. */
function buildBroadcaster(options: BroadcastModuleOptions): Broadcaster {
  try {
    return createBroadcaster(options);
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError('invalid BroadcastModule options', err.issues);
    throw err;
  }
}
