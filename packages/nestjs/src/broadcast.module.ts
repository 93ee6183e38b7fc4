import { Logger, Module, type DynamicModule, type InjectionToken, type Provider } from '@nestjs/common';
import { loadOutboxPackage } from './outbox-package';
import {
  closestName,
  objectIssue,
  unknownOptionIssues,
  ValidationError,
  type BroadcastClient,
  type Logger as BroadcastLogger,
  type ValidationIssue,
} from '@tim-broadcast/core';
import {
  createBroadcaster,
  openOutbox,
  outboxOptionIssues,
  withSharedLimiter,
  type AppOutbox,
  type Broadcaster,
  type BroadcasterOptions,
} from '@tim-broadcast/rate-limit';
import { BroadcastService } from './broadcast.service';
import { getBroadcastServiceToken } from './inject';
import type { BroadcastModuleAsyncOptions, BroadcastModuleOptions, BroadcastModuleRootOptions, BroadcastOptionsFactory } from './options';
import { BroadcastCoreModule, BroadcastRegistry } from './registry';
import { DEFAULT_BROADCAST_NAME, getBroadcastClientToken, getBroadcasterToken, getBroadcastOptionsToken, outboxToken } from './tokens';

const ROOT_KEYS = ['name', 'isGlobal'];
const ASYNC_KEYS = ['name', 'isGlobal', 'imports', 'inject', 'useFactory', 'useClass', 'useExisting', 'extraProviders'];

@Module({})
export class BroadcastModule {
  /** Configures a registration with options known up front. */
  static forRoot(options: BroadcastModuleRootOptions): DynamicModule {
    throwIfIssues('invalid BroadcastModule.forRoot options', rootIssues(options));
    const { isGlobal, name, ...rest } = options;
    return assemble(name ?? DEFAULT_BROADCAST_NAME, [{ provide: getBroadcastOptionsToken(name), useValue: rest }], { isGlobal });
  }

  /** Configures a registration from other providers (e.g. `ConfigService`) with `useFactory`, `useClass` or `useExisting`. */
  static forRootAsync(options: BroadcastModuleAsyncOptions): DynamicModule {
    throwIfIssues('invalid BroadcastModule.forRootAsync options', asyncIssues(options));
    const { name } = options;
    const optionsToken = getBroadcastOptionsToken(name);
    const providers: Provider[] = [...(options.extraProviders ?? [])];
    if (options.useFactory) {
      providers.push({ provide: optionsToken, useFactory: options.useFactory, inject: options.inject ?? [] });
    } else {
      const factoryClass = (options.useClass ?? options.useExisting)!;
      if (options.useClass) providers.push({ provide: factoryClass, useClass: factoryClass });
      providers.push({
        provide: optionsToken,
        useFactory: (factory: BroadcastOptionsFactory) => factory.createBroadcastOptions(),
        inject: [factoryClass],
      });
    }
    return assemble(name ?? DEFAULT_BROADCAST_NAME, providers, { isGlobal: options.isGlobal, imports: options.imports });
  }
}

function assemble(name: string, optionProviders: Provider[], extra: Pick<BroadcastModuleAsyncOptions, 'isGlobal' | 'imports'>): DynamicModule {
  const tokens = {
    options: getBroadcastOptionsToken(name),
    broadcaster: getBroadcasterToken(name),
    client: getBroadcastClientToken(name),
    service: getBroadcastServiceToken(name) as InjectionToken,
    outbox: outboxToken(name),
  };
  return {
    module: BroadcastModule,
    global: extra.isGlobal ?? false,
    imports: [BroadcastCoreModule, ...(extra.imports ?? [])],
    providers: [
      ...optionProviders,
      { provide: tokens.broadcaster, useFactory: (options: unknown) => buildBroadcaster(options, name), inject: [tokens.options] },
      { provide: tokens.client, useFactory: (broadcaster: Broadcaster): BroadcastClient => broadcaster.client, inject: [tokens.broadcaster] },
      { provide: tokens.outbox, useFactory: (options: unknown, broadcaster: Broadcaster) => buildOutbox(options, broadcaster, name), inject: [tokens.options, tokens.broadcaster] },
      {
        provide: tokens.service,
        useFactory: (broadcaster: Broadcaster, client: BroadcastClient, registry: BroadcastRegistry, outbox: AppOutbox | null) =>
          new BroadcastService(broadcaster, client, registry, name, outbox ?? undefined),
        inject: [tokens.broadcaster, tokens.client, BroadcastRegistry, tokens.outbox],
      },
    ],
    exports: [tokens.options, tokens.broadcaster, tokens.client, tokens.service],
  };
}

/**
 * Validates every option at once; a bad one fails application start with a message naming the field. Unless the
 * options name a `logger`, what the broadcaster logs (e.g. a rate-limit store failing, once per outage) goes to
 * Nest's `Logger`.
 */
function buildBroadcaster(given: unknown, name: string): Broadcaster {
  const summary = summaryOf(name);
  const shape = objectIssue(given, []);
  if (shape) throw new ValidationError(summary, [shape]);
  const { outbox, ...options } = given as BroadcastModuleOptions;
  // what forRootAsync's factory returns holds the broadcaster's options only
  const misplaced: ValidationIssue[] = ROOT_KEYS.filter((key) => Object.hasOwn(options, key)).map((key) => ({
    path: [key],
    message: `belongs to BroadcastModule.forRoot/forRootAsync itself, not to the broadcaster options`,
  }));
  if (outbox !== undefined) misplaced.push(...outboxOptionIssues(outbox, ['outbox']));
  // named once, by the check above, not again as unknown client options
  const own = Object.fromEntries(Object.entries(options).filter(([key]) => !ROOT_KEYS.includes(key))) as typeof options;
  const withOutbox = outbox !== undefined && misplaced.length === 0 ? withSharedLimiter(own, outbox) : own;
  try {
    const broadcaster = createBroadcaster({ logger: nestLogger(name), ...withOutbox } as BroadcasterOptions);
    if (misplaced.length === 0) return broadcaster;
    void broadcaster.close();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    misplaced.push(...err.issues);
  }
  throw new ValidationError(summary, misplaced);
}

/**
 * The registration's outbox when its options have one (`null` otherwise): loads @tim-broadcast/outbox, an optional
 * peer, only then. A failure (the package missing, a bad outbox option) closes the broadcaster and stops start-up.
 */
async function buildOutbox(given: unknown, broadcaster: Broadcaster, name: string): Promise<AppOutbox | null> {
  const options = given as BroadcastModuleOptions;
  if (options.outbox === undefined) return null;
  try {
    return await openOutbox(options.outbox, {
      client: broadcaster.client,
      sdkAppId: options.sdkAppId,
      logger: options.logger ?? nestLogger(name),
      timeoutMs: options.shutdownTimeoutMs ?? 10_000,
      summary: summaryOf(name),
      path: ['outbox'],
      loadOutbox: loadOutboxPackage,
    });
  } catch (err) {
    await broadcaster.close();
    throw err;
  }
}

function summaryOf(name: string): string {
  return name === DEFAULT_BROADCAST_NAME ? 'invalid BroadcastModule options' : `invalid BroadcastModule options of '${name}'`;
}

/**
 * The broadcaster's logger interface on top of Nest's `Logger`. No `debug`: the client then skips building its
 * per-attempt events (pass your own `logger` to see them).
 */
function nestLogger(name: string): BroadcastLogger {
  const logger = new Logger(name === DEFAULT_BROADCAST_NAME ? 'BroadcastModule' : `BroadcastModule:${name}`);
  const line = (message: string, meta?: Record<string, unknown>) => (meta === undefined ? message : `${message} ${JSON.stringify(meta)}`);
  return {
    info: (message, meta) => logger.log(line(message, meta)),
    warn: (message, meta) => logger.warn(line(message, meta)),
    error: (message, meta) => logger.error(line(message, meta)),
  };
}

function throwIfIssues(summary: string, issues: ValidationIssue[]): void {
  if (issues.length) throw new ValidationError(summary, issues);
}

function registrationIssues(options: { name?: unknown; isGlobal?: unknown }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const { name, isGlobal } = options;
  if (name !== undefined && (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name))) {
    issues.push({ path: ['name'], message: 'expected a name of letters, digits, _ . - (at most 64 characters)' });
  }
  if (isGlobal !== undefined && typeof isGlobal !== 'boolean') issues.push({ path: ['isGlobal'], message: 'expected a boolean' });
  return issues;
}

/**
 * forRoot's own options (`name`, `isGlobal`). The rest go to `createBroadcaster`, which checks them when the module
 * is instantiated; a near miss of an own option (`isGlobl`) is refused here, naming it.
 */
function rootIssues(options: BroadcastModuleRootOptions): ValidationIssue[] {
  const shape = objectIssue(options, []);
  if (shape) return [shape];
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(options)) {
    const near = ROOT_KEYS.includes(key) ? undefined : closestName(key, ROOT_KEYS);
    if (near) issues.push({ path: [key], message: `unknown option (did you mean '${near}'?)` });
  }
  return [...issues, ...registrationIssues(options)];
}

function asyncIssues(options: BroadcastModuleAsyncOptions): ValidationIssue[] {
  const shape = objectIssue(options, []);
  if (shape) return [shape];
  const issues = [...unknownOptionIssues(options, ASYNC_KEYS), ...registrationIssues(options)];
  const given = (['useFactory', 'useClass', 'useExisting'] as const).filter((key) => options[key] !== undefined);
  if (given.length !== 1) {
    issues.push({ path: [given[1] ?? 'useFactory'], message: 'give exactly one of useFactory, useClass or useExisting' });
  }
  for (const key of ['useFactory', 'useClass', 'useExisting'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') issues.push({ path: [key], message: 'expected a function or class' });
  }
  for (const key of ['imports', 'inject', 'extraProviders'] as const) {
    if (options[key] !== undefined && !Array.isArray(options[key])) issues.push({ path: [key], message: 'expected an array' });
  }
  return issues;
}
