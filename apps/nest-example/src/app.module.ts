import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { BroadcastExceptionFilter, BroadcastModule, type BroadcastModuleOptions } from '@tim-broadcast/nestjs';
import { BroadcastHealthIndicator } from '@tim-broadcast/nestjs/health';
import { AnnouncementsController } from './announcements.controller';
import { HealthController } from './health.controller';
import { timConfig, type TimSettings } from './settings';
import { TelemetryModule } from './telemetry';
import { TIM_TARGET, TimTargetModule, type TimTarget } from './tim-target';

function broadcastOptions(config: ConfigService, target: TimTarget): BroadcastModuleOptions {
  const tim = config.getOrThrow<TimSettings>('tim');
  return {
    ...target.credentials,
    // with REDIS_URL the limiter is shared through Redis by every instance (the outbox's Redis)
    rateLimit: { ratePerSecond: tim.ratePerSecond },
    // announcements waiting for the limiter go out together in one call when they fit
    coalesce: true,
    shutdownTimeoutMs: 15_000,
    // outbox mode: accepted announcements survive restarts and crashes; every instance delivers unless OUTBOX_DELIVER=false
    ...(tim.redisUrl && {
      outbox: { redis: tim.redisUrl, deliver: tim.outboxDeliver, coalesce: true, ...(tim.outboxName ? { name: tim.outboxName } : {}) },
    }),
  };
}

@Module({})
export class AppModule {
  /** `env` is process.env in production; tests pass their own. */
  static forRoot(env: Record<string, string | undefined> = process.env): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, skipProcessEnv: true, load: [timConfig(env)] }),
        TerminusModule,
        TelemetryModule.forRoot(env),
        BroadcastModule.forRootAsync({
          imports: [TimTargetModule],
          inject: [ConfigService, TIM_TARGET],
          useFactory: broadcastOptions,
        }),
      ],
      controllers: [AnnouncementsController, HealthController],
      // SDK errors → HTTP: 400 naming the fields, 429 with Retry-After, 502 upstream, 503 store or shutdown, 504 timeout
      providers: [BroadcastHealthIndicator, { provide: APP_FILTER, useClass: BroadcastExceptionFilter }],
    };
  }
}
