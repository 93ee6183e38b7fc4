import { Inject, Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  BROADCAST_CLIENT,
  BROADCAST_OPTIONS,
  BROADCASTER,
  BroadcastModule,
  BroadcastService,
  getBroadcastServiceToken,
  StoreError,
  text,
  ValidationError,
  type BroadcastClient,
  type BroadcastModuleOptions,
  type BroadcastOptionsFactory,
  type BroadcastRequestInput,
  type BroadcastSendOptions,
} from '@tim-broadcast/nestjs';
import { createBroadcaster } from '@tim-broadcast/rate-limit';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../testing/free-port';
import { issueMessages } from '../../../testing/validation';
import { ADMIN, deliveredTexts, emulatorFixture, recordingNestLogger, SDK_APP_ID, type EmulatorFixture } from './helpers';

let fx: EmulatorFixture;
let moduleRef: TestingModule | undefined;

beforeEach(async () => {
  fx = await emulatorFixture(5);
});

afterEach(async () => {
  await moduleRef?.close();
  moduleRef = undefined;
  await fx.emu.close();
});

async function compile(imports: unknown[], configure?: (b: ReturnType<typeof Test.createTestingModule>) => void) {
  const builder = Test.createTestingModule({ imports: imports as never[] });
  configure?.(builder);
  moduleRef = await builder.compile();
  await moduleRef.init();
  return moduleRef;
}

describe('BroadcastModule.forRoot', () => {
  it('provides a BroadcastService whose send() reaches the API through the queue', async () => {
    const ref = await compile([BroadcastModule.forRoot(fx.options)]);
    const service = ref.get(BroadcastService);
    const result = await service.send({ MsgBody: [text('hello from forRoot')] });
    expect(result.MsgSeq).toBeGreaterThan(0);
    expect(result.batchSize).toBe(1);
    expect(deliveredTexts(fx.emu)).toEqual(['hello from forRoot']);
    expect(fx.emu.deliveries[0]!.MsgSeq).toBe(result.MsgSeq);
  });

  it('exposes the client for direct calls and the same objects under the exported tokens', async () => {
    const ref = await compile([BroadcastModule.forRoot(fx.options)]);
    const service = ref.get(BroadcastService);
    expect(service.client).toBe(ref.get(BROADCAST_CLIENT));
    expect(ref.get(BROADCASTER).client).toBe(service.client);
    expect(ref.get(BROADCAST_OPTIONS)).toMatchObject({ sdkAppId: SDK_APP_ID, baseUrl: fx.emu.url });

    const direct = await service.client.broadcast({ MsgBody: [text('direct')] });
    expect(direct.attempts).toBe(1);
    expect(deliveredTexts(fx.emu)).toEqual(['direct']);
  });

  it('fails compilation with a ValidationError naming each bad field', async () => {
    const bad = { ...fx.options, sdkAppId: -1, rateLimit: { ratePerSecond: -2 } } as BroadcastModuleOptions;
    const error = await Test.createTestingModule({ imports: [BroadcastModule.forRoot(bad)] })
      .compile()
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/^invalid BroadcastModule options: /);
    expect((error as Error).message).toContain('sdkAppId');
    expect((error as Error).message).toContain('rateLimit.ratePerSecond');
    expect((error as Error).message).not.toContain(fx.secretKey);
  });

  it('isGlobal lets a feature module inject BroadcastService without importing the module', async () => {
    @Injectable()
    class Announcer {
      constructor(@Inject(BroadcastService) readonly broadcast: BroadcastService) {}
    }
    @Module({ providers: [Announcer] })
    class FeatureModule {}

    const ref = await compile([BroadcastModule.forRoot({ ...fx.options, isGlobal: true }), FeatureModule]);
    const announcer = ref.get(Announcer);
    expect(announcer.broadcast).toBe(ref.get(BroadcastService));
    await announcer.broadcast.send({ MsgBody: [text('from a feature module')] });
    expect(deliveredTexts(fx.emu)).toEqual(['from a feature module']);
  });

  it('without isGlobal a feature module that does not import it cannot resolve BroadcastService', async () => {
    @Injectable()
    class Announcer {
      constructor(@Inject(BroadcastService) readonly broadcast: BroadcastService) {}
    }
    @Module({ providers: [Announcer] })
    class FeatureModule {}

    await expect(
      Test.createTestingModule({ imports: [BroadcastModule.forRoot(fx.options), FeatureModule] }).compile(),
    ).rejects.toThrow(/BroadcastService/);
  });
});

describe('BroadcastModule.forRootAsync', () => {
  const configFor = (fixture: EmulatorFixture) =>
    ConfigModule.forRoot({
      ignoreEnvFile: true,
      skipProcessEnv: true,
      load: [
        () => ({
          TIM_SDKAPPID: String(SDK_APP_ID),
          TIM_SECRET_KEY: fixture.secretKey,
          TIM_IDENTIFIER: ADMIN,
          TIM_BASE_URL: fixture.emu.url,
          TIM_RATE_PER_SECOND: '5',
        }),
      ],
    });

  const fromConfig = (config: ConfigService): BroadcastModuleOptions => ({
    sdkAppId: Number(config.getOrThrow<string>('TIM_SDKAPPID')),
    secretKey: config.getOrThrow<string>('TIM_SECRET_KEY'),
    identifier: config.getOrThrow<string>('TIM_IDENTIFIER'),
    baseUrl: config.getOrThrow<string>('TIM_BASE_URL'),
    rateLimit: { ratePerSecond: Number(config.getOrThrow<string>('TIM_RATE_PER_SECOND')) },
  });

  it('useFactory with ConfigService', async () => {
    const ref = await compile([
      BroadcastModule.forRootAsync({ imports: [configFor(fx)], inject: [ConfigService], useFactory: fromConfig }),
    ]);
    await ref.get(BroadcastService).send({ MsgBody: [text('configured by ConfigService')] });
    expect(deliveredTexts(fx.emu)).toEqual(['configured by ConfigService']);
    expect(ref.get(BroadcastService).health().limiter).toMatchObject({ store: 'memory', ratePerSecond: 5 });
  });

  it('an async useFactory is awaited', async () => {
    const ref = await compile([
      BroadcastModule.forRootAsync({
        useFactory: async () => {
          await new Promise((resolve) => setTimeout(resolve, 10));
          return fx.options;
        },
      }),
    ]);
    await ref.get(BroadcastService).send({ MsgBody: [text('async factory')] });
    expect(deliveredTexts(fx.emu)).toEqual(['async factory']);
  });

  it('useClass instantiates the factory inside the module, with its own injections', async () => {
    @Injectable()
    class OptionsFromConfig implements BroadcastOptionsFactory {
      constructor(@Inject(ConfigService) private readonly config: ConfigService) {}
      createBroadcastOptions() {
        return fromConfig(this.config);
      }
    }
    const ref = await compile([BroadcastModule.forRootAsync({ imports: [configFor(fx)], useClass: OptionsFromConfig })]);
    await ref.get(BroadcastService).send({ MsgBody: [text('useClass')] });
    expect(deliveredTexts(fx.emu)).toEqual(['useClass']);
  });

  it('useExisting reuses a provider exported by an imported module', async () => {
    @Injectable()
    class SharedOptions implements BroadcastOptionsFactory {
      createBroadcastOptions() {
        return fx.options;
      }
    }
    @Module({ providers: [SharedOptions], exports: [SharedOptions] })
    class OptionsModule {}

    const ref = await compile([BroadcastModule.forRootAsync({ imports: [OptionsModule], useExisting: SharedOptions })]);
    await ref.get(BroadcastService).send({ MsgBody: [text('useExisting')] });
    expect(deliveredTexts(fx.emu)).toEqual(['useExisting']);
  });

  it('bad options from the factory fail start-up naming the field', async () => {
    const error = await Test.createTestingModule({
      imports: [BroadcastModule.forRootAsync({ useFactory: () => ({ ...fx.options, maxQueued: 0 }) })],
    })
      .compile()
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path.join('.'))).toContain('maxQueued');
  });

  it('refuses a configuration with none or several of useFactory / useClass / useExisting', () => {
    class F implements BroadcastOptionsFactory {
      createBroadcastOptions() {
        return fx.options;
      }
    }
    expect(() => BroadcastModule.forRootAsync({})).toThrow(/exactly one of useFactory, useClass or useExisting/);
    expect(() => BroadcastModule.forRootAsync({ useFactory: () => fx.options, useClass: F })).toThrow(ValidationError);
  });
});

describe('overriding the exported tokens', () => {
  it('BROADCAST_OPTIONS can be overridden to point a module configured elsewhere at the emulator', async () => {
    const production = { sdkAppId: 1400009999, secretKey: 'not-used', identifier: ADMIN, region: 'singapore' } as const;
    const ref = await compile([BroadcastModule.forRoot(production)], (b) => b.overrideProvider(BROADCAST_OPTIONS).useValue(fx.options));
    await ref.get(BroadcastService).send({ MsgBody: [text('overridden options')] });
    expect(deliveredTexts(fx.emu)).toEqual(['overridden options']);
  });

  it('BROADCAST_CLIENT can be overridden with a fake client for direct calls', async () => {
    const calls: unknown[] = [];
    const fake: BroadcastClient = {
      sdkAppId: SDK_APP_ID,
      identifier: ADMIN,
      limiter: undefined,
      async broadcast(request) {
        calls.push(request);
        return { MsgSeq: 42, Random: 7, attempts: 1 };
      },
      async close() {},
    };
    const ref = await compile([BroadcastModule.forRoot(fx.options)], (b) => b.overrideProvider(BROADCAST_CLIENT).useValue(fake));
    const service = ref.get(BroadcastService);
    expect(service.client).toBe(fake);
    await expect(service.client.broadcast({ MsgBody: [text('fake')] })).resolves.toMatchObject({ MsgSeq: 42 });
    expect(calls).toHaveLength(1);
    expect(fx.emu.deliveries).toHaveLength(0);
  });
});

describe('option checks', () => {
  it('forRoot refuses a near miss of its own options, naming the one meant', () => {
    expect(issueMessages(() => BroadcastModule.forRoot({ ...fx.options, isGlobl: true } as never))).toEqual(["isGlobl: unknown option (did you mean 'isGlobal'?)"]);
    expect(issueMessages(() => BroadcastModule.forRoot({ ...fx.options, nmae: 'eu' } as never))).toEqual(["nmae: unknown option (did you mean 'name'?)"]);
    expect(issueMessages(() => BroadcastModule.forRoot({ ...fx.options, isGlobal: 'yes' } as never))).toEqual(['isGlobal: expected a boolean']);
    expect(issueMessages(() => BroadcastModule.forRoot({ ...fx.options, name: 'two words' }))).toEqual([
      'name: expected a name of letters, digits, _ . - (at most 64 characters)',
    ]);
    expect(issueMessages(() => BroadcastModule.forRoot(undefined as never))).toEqual([': expected an options object, got undefined']);
  });

  it('no option of the broadcaster is taken for a near miss of forRoot\'s own', () => {
    const every = {
      ...fx.options,
      transport: undefined,
      retry: { attempts: 2 },
      timeoutMs: 5_000,
      deadlineMs: 20_000,
      userSigExpireSeconds: 3_600,
      hooks: {},
      logger: console,
      coalesce: true,
      maxQueued: 10,
      maxBytes: 12_000,
      concurrency: 1,
      shutdownTimeoutMs: 1_000,
    };
    expect(() => BroadcastModule.forRoot(every)).not.toThrow();
  });

  it('forRootAsync refuses unknown keys with the closest known one, and bad values', () => {
    expect(issueMessages(() => BroadcastModule.forRootAsync({ useFactry: () => fx.options } as never))).toEqual([
      "useFactry: unknown option (did you mean 'useFactory'?); known: name, isGlobal, imports, inject, useFactory, useClass, useExisting, extraProviders",
      'useFactory: give exactly one of useFactory, useClass or useExisting',
    ]);
    expect(issueMessages(() => BroadcastModule.forRootAsync({ useFactory: () => fx.options, inject: 'ConfigService' as never }))).toEqual(['inject: expected an array']);
    expect(issueMessages(() => BroadcastModule.forRootAsync({ useFactory: 'options' as never }))).toEqual(['useFactory: expected a function or class']);
  });

  it('a factory returning forRoot-level options is refused at start-up, naming them', async () => {
    const error = await Test.createTestingModule({
      imports: [BroadcastModule.forRootAsync({ useFactory: () => ({ ...fx.options, isGlobal: true }) as never })],
    })
      .compile()
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path.join('.'))).toEqual(['isGlobal']);
  });

  it('a factory returning something else than an object is refused at start-up', async () => {
    const error = await Test.createTestingModule({ imports: [BroadcastModule.forRootAsync({ name: 'eu', useFactory: () => undefined as never })] })
      .compile()
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe("invalid BroadcastModule options of 'eu': (root): expected an options object, got undefined");
  });
});

describe('BroadcastService.send options', () => {
  it('passes the per-call options (timeoutMs, deadlineMs, retry, signal, idempotencyKey) on to the broadcaster unchanged', async () => {
    const seen: unknown[] = [];
    const ref = await compile([BroadcastModule.forRoot(fx.options)], (b) =>
      b
        .overrideProvider(BROADCASTER)
        .useFactory({
          factory: (options: BroadcastModuleOptions) => {
            const real = createBroadcaster(options);
            return { ...real, send: (request: BroadcastRequestInput, sendOptions?: unknown) => (seen.push(sendOptions), real.send(request, sendOptions as never)) };
          },
          inject: [BROADCAST_OPTIONS],
        }),
    );
    const signal = new AbortController().signal;
    const options: BroadcastSendOptions = { signal, idempotencyKey: 'order-1', timeoutMs: 4_000, deadlineMs: 9_000, retry: { attempts: 2 } };
    const result = await ref.get(BroadcastService).send({ MsgBody: [text('with options')] }, options);
    expect(seen).toEqual([options]);
    expect(seen[0]).toBe(options);
    expect(fx.emu.deliveries.map((d) => d.Random)).toEqual([result.Random]);
    await ref.get(BROADCASTER).close();
  });
});

describe('logging', () => {
  it('a rate-limit store outage reaches Nest\'s Logger once, not once per broadcast', async () => {
    const logger = recordingNestLogger();
    const redis = new Redis({ host: '127.0.0.1', port: await freePort(), enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      @Module({ imports: [BroadcastModule.forRoot({ ...fx.options, name: 'eu', rateLimit: { redis, onStoreError: 'fail', key: `log-test-${process.pid}` } })] })
      class AppModule {}
      const app = await NestFactory.createApplicationContext(AppModule, { logger, abortOnError: false });
      const service = app.get<BroadcastService>(getBroadcastServiceToken('eu'));
      for (const t of ['a', 'b', 'c']) await expect(service.send({ MsgBody: [text(t)] })).rejects.toBeInstanceOf(StoreError);
      await app.close();
      const outage = logger.lines.filter((l) => l.message.includes('rate-limit store failing'));
      expect(outage).toEqual([{ level: 'warn', message: expect.stringContaining('"store":"redis"'), context: 'BroadcastModule:eu' }]);
    } finally {
      redis.disconnect();
    }
  });

  it('a logger in the options is used instead', async () => {
    const lines: string[] = [];
    const own = { warn: (message: string) => lines.push(message) };
    const redis = new Redis({ host: '127.0.0.1', port: await freePort(), enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      const ref = await compile([BroadcastModule.forRoot({ ...fx.options, logger: own, rateLimit: { redis, onStoreError: 'fail', key: `log-test-${process.pid}` } })]);
      await expect(ref.get(BroadcastService).send({ MsgBody: [text('x')] })).rejects.toBeInstanceOf(StoreError);
      expect(lines).toEqual(['tim-broadcast: rate-limit store failing; nothing is admitted until it answers']);
    } finally {
      redis.disconnect();
    }
  });
});
