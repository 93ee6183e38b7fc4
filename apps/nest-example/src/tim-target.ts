import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { startEmulator, type Emulator } from '@tim-broadcast/emulator';
import type { TimCredentials, TimSettings } from './settings';

/** Where broadcasts go: the configured app, or an in-process emulator when no credentials are set. */
export const TIM_TARGET = Symbol('TIM_TARGET');

export interface TimTarget {
  credentials: TimCredentials;
  /** Set when the app runs against its own emulator. */
  emulator?: Emulator;
}

const EMULATED_SDKAPPID = 1400000000;

async function resolveTarget(config: ConfigService): Promise<TimTarget> {
  const tim = config.getOrThrow<TimSettings>('tim');
  if (tim.credentials) return { credentials: tim.credentials };

  const secretKey = randomBytes(32).toString('hex');
  const emulator = await startEmulator({
    sdkAppId: EMULATED_SDKAPPID,
    secretKey,
    admin: tim.identifier,
    ratePerSecond: Math.max(1, Math.ceil(tim.ratePerSecond)),
  });
  new Logger('Broadcast').warn(`no TIM_* credentials: using the local emulator at ${emulator.url}`);
  return { credentials: { sdkAppId: EMULATED_SDKAPPID, secretKey, identifier: tim.identifier, baseUrl: emulator.url }, emulator };
}

/** Stops the emulator last: onApplicationShutdown runs after every beforeApplicationShutdown hook, where the queue drains. */
@Injectable()
export class EmulatorCloser implements OnApplicationShutdown {
  constructor(@Inject(TIM_TARGET) private readonly target: TimTarget) {}

  async onApplicationShutdown(): Promise<void> {
    await this.target.emulator?.close();
  }
}

@Module({
  providers: [{ provide: TIM_TARGET, useFactory: resolveTarget, inject: [ConfigService] }, EmulatorCloser],
  exports: [TIM_TARGET],
})
export class TimTargetModule {}
