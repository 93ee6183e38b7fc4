import { Inject, Injectable, Module, ServiceUnavailableException, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import {
  BroadcastModule,
  BroadcastService,
  getBroadcastClientToken,
  getBroadcasterToken,
  getBroadcastOptionsToken,
  getBroadcastServiceToken,
  InjectBroadcast,
  text,
  ValidationError,
  type Broadcaster,
} from '@tim-broadcast/nestjs';
import { BroadcastHealthIndicator } from '@tim-broadcast/nestjs/health';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deliveredTexts,
  emulatorFixture,
  recordingNestLogger,
  SDK_APP_ID,
  SECOND_SDK_APP_ID,
  secondFixture,
  type EmulatorFixture,
} from './helpers';

// Two Tencent Cloud Chat apps (two SDKAppIDs, two emulators): the unnamed registration sends to `main`, 'eu' to `eu`.
let main: EmulatorFixture;
let eu: EmulatorFixture;
let context: INestApplicationContext | undefined;

beforeEach(async () => {
  [main, eu] = await Promise.all([emulatorFixture(5), secondFixture(5)]);
});

afterEach(async () => {
  await context?.close();
  context = undefined;
  await Promise.all([main.emu.close(), eu.emu.close()]);
});

@Injectable()
class Announcer {
  constructor(
    @Inject(BroadcastService) readonly main: BroadcastService,
    @InjectBroadcast('eu') readonly eu: BroadcastService,
  ) {}
}

async function boot(imports: unknown[], providers: unknown[] = [Announcer]) {
  @Module({ imports: imports as never[], providers: providers as never[] })
  class AppModule {}
  context = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
  return context;
}

describe('named registrations', () => {
  it('forRoot({ name }) and the unnamed registration each send to their own app', async () => {
    const app = await boot([BroadcastModule.forRoot(main.options), BroadcastModule.forRoot({ name: 'eu', ...eu.options })]);
    const announcer = app.get(Announcer);
    await announcer.main.send({ MsgBody: [text('to main')] });
    await announcer.eu.send({ MsgBody: [text('to eu')] });
    expect(deliveredTexts(main.emu)).toEqual(['to main']);
    expect(deliveredTexts(eu.emu)).toEqual(['to eu']);
    expect(announcer.main.name).toBe('default');
    expect(announcer.eu.name).toBe('eu');
    expect(announcer.eu.client.sdkAppId).toBe(SECOND_SDK_APP_ID);
    expect(announcer.main.client.sdkAppId).toBe(SDK_APP_ID);
  });

  it('forRootAsync({ name }) and the token helpers', async () => {
    const app = await boot([
      BroadcastModule.forRoot(main.options),
      BroadcastModule.forRootAsync({ name: 'eu', useFactory: async () => ({ ...eu.options, rateLimit: { ratePerSecond: 3 } }) }),
    ]);
    const service = app.get<BroadcastService>(getBroadcastServiceToken('eu'));
    expect(service).toBe(app.get(Announcer).eu);
    expect(app.get<Broadcaster>(getBroadcasterToken('eu')).client).toBe(service.client);
    expect(app.get(getBroadcastClientToken('eu'))).toBe(service.client);
    expect(app.get(getBroadcastOptionsToken('eu'))).toMatchObject({ sdkAppId: SECOND_SDK_APP_ID });
    // each registration has its own limiter
    expect(service.health().limiter).toMatchObject({ ratePerSecond: 3 });
    expect(app.get(BroadcastService).health().limiter).toMatchObject({ ratePerSecond: 5 });
    // the unnamed registration's tokens are the plain ones, and 'default' names it
    expect(getBroadcastServiceToken()).toBe(BroadcastService);
    expect(getBroadcastServiceToken('default')).toBe(BroadcastService);
    await service.send({ MsgBody: [text('async eu')] });
    expect(deliveredTexts(eu.emu)).toEqual(['async eu']);
  });

  it('isGlobal: a feature module injects a named registration without importing it', async () => {
    @Injectable()
    class EuOnly {
      constructor(@InjectBroadcast('eu') readonly eu: BroadcastService) {}
    }
    @Module({ providers: [EuOnly] })
    class FeatureModule {}
    const app = await boot([BroadcastModule.forRoot({ name: 'eu', isGlobal: true, ...eu.options }), FeatureModule], []);
    await app.get(EuOnly).eu.send({ MsgBody: [text('from a feature module')] });
    expect(deliveredTexts(eu.emu)).toEqual(['from a feature module']);
  });

  it('a named registration can be pointed at the emulator through its options token', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BroadcastModule.forRoot({ name: 'eu', sdkAppId: 1400009999, secretKey: 'unused', identifier: 'administrator', region: 'frankfurt' })],
    })
      .overrideProvider(getBroadcastOptionsToken('eu'))
      .useValue(eu.options)
      .compile();
    context = await moduleRef.init();
    await moduleRef.get<BroadcastService>(getBroadcastServiceToken('eu')).send({ MsgBody: [text('overridden')] });
    expect(deliveredTexts(eu.emu)).toEqual(['overridden']);
  });

  it('the same name twice is refused at start-up', async () => {
    const error = await boot([BroadcastModule.forRoot({ name: 'eu', ...eu.options }), BroadcastModule.forRoot({ name: 'eu', ...main.options })], []).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain("BroadcastModule 'eu' is registered twice");
  });

  it('health per name through terminus', async () => {
    const app = await boot([
      BroadcastModule.forRoot(main.options),
      BroadcastModule.forRoot({ name: 'eu', ...eu.options }),
      TerminusModule.forRoot({ logger: false }),
    ], [BroadcastHealthIndicator]);
    const indicator = app.get(BroadcastHealthIndicator);
    const check = () => app.get(HealthCheckService).check([() => indicator.isHealthy('main'), () => indicator.isHealthy('eu', { name: 'eu' })]);
    const up = await check();
    expect(up.details).toMatchObject({ main: { status: 'up', limiter: { ratePerSecond: 5 } }, eu: { status: 'up' } });

    await app.get<Broadcaster>(getBroadcasterToken('eu')).close();
    const error = await check().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ServiceUnavailableException);
    const body = (error as ServiceUnavailableException).getResponse() as { details: Record<string, { status: string }> };
    expect(body.details.main!.status).toBe('up');
    expect(body.details.eu!.status).toBe('down');

    await expect(indicator.isHealthy('x', { name: 'us' })).rejects.toThrow("no registration named 'us' (registered: 'default', 'eu')");
  });
});

describe('shutdown with several registrations', () => {
  it('drains every registration at once, and app.close() resolves after the last delivery', async () => {
    // each answer comes 300 ms late and each app allows 1 call/s: three queued broadcasts take ~2.5 s to drain
    const events: string[] = [];
    const logger = recordingNestLogger((line) => {
      if (line.message.startsWith('draining')) events.push(`draining ${line.context}`);
    });
    for (const fx of [main, eu]) fx.emu.setFaults({ rate: 1, kinds: ['slow'], slowMs: 300 });
    @Module({ imports: [BroadcastModule.forRoot({ ...main.options, rateLimit: { ratePerSecond: 1 } }), BroadcastModule.forRoot({ name: 'eu', ...eu.options, rateLimit: { ratePerSecond: 1 } })], providers: [Announcer] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger, abortOnError: false });
    const announcer = app.get(Announcer);

    const sends = [...['m1', 'm2', 'm3'].map((t) => [announcer.main, t] as const), ...['e1', 'e2', 'e3'].map((t) => [announcer.eu, t] as const)].map(
      ([service, t]) => service.send({ MsgBody: [text(t)] }).then(() => events.push(`delivered ${t}`)),
    );
    await app.close();
    events.push('close resolved');
    await Promise.all(sends);

    // both drains began before either queue emptied (side by side, not one after the other), and close() waited for both
    expect(events.slice(0, 2).sort()).toEqual(['draining BroadcastService', 'draining BroadcastService:eu']);
    expect(events.slice(2, -1).sort()).toEqual(['delivered e1', 'delivered e2', 'delivered e3', 'delivered m1', 'delivered m2', 'delivered m3']);
    expect(events.at(-1)).toBe('close resolved');
    expect(deliveredTexts(main.emu)).toEqual(['m1', 'm2', 'm3']);
    expect(deliveredTexts(eu.emu)).toEqual(['e1', 'e2', 'e3']);
  });
});
