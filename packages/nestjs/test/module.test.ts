import { Inject, Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import { text, ValidationError, type BroadcastClient } from '@tim-broadcast/core';
import {
  BROADCAST_CLIENT,
  BROADCAST_OPTIONS,
  BROADCASTER,
  BroadcastModule,
  BroadcastService,
  type BroadcastModuleOptions,
  type BroadcastOptionsFactory,
} from '@tim-broadcast/nestjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, deliveredTexts, emulatorFixture, SDK_APP_ID, type EmulatorFixture } from './helpers';

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
