import 'reflect-metadata';
import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { Telemetry } from './telemetry';

export interface AppOptions {
  /** Environment to read TIM_* from (default process.env). */
  env?: Record<string, string | undefined>;
  logger?: LoggerService | LogLevel[] | false;
}

/** The Nest app, initialised but not listening. */
export async function createApp(options: AppOptions = {}): Promise<INestApplication> {
  // abortOnError false: a bad option rejects here (the message names the field) instead of aborting the process
  const app = await NestFactory.create(AppModule.forRoot(options.env), { logger: options.logger, abortOnError: false });
  app.use(app.get(Telemetry).tracing); // each request's span, before any route
  return app;
}

export interface BootstrapOptions extends AppOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Drain and exit 0 on SIGTERM/SIGINT (for a real process; tests call app.close()). */
  shutdownHooks?: boolean;
}

/** Creates the app and starts listening; resolves with the app and its URL. */
export async function bootstrap(options: BootstrapOptions): Promise<{ app: INestApplication; url: string }> {
  const app = await createApp(options);
  // useProcessExit (Nest ≥ 11.2): exit 0 after the hooks ran, instead of re-raising the signal
  if (options.shutdownHooks) app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(options.port, options.host ?? '127.0.0.1');
  return { app, url: await app.getUrl() };
}
