import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@tim-broadcast/core';
import { startEmulator, type Emulator } from '@tim-broadcast/emulator';
import { broadcastMiddleware, closeBroadcast, createBroadcastRouter, createHealthHandler } from '@tim-broadcast/express';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { loadConfig, type Config } from './config';
import { startTelemetry, type Telemetry } from './telemetry';

/**
 * The admin service: `POST /broadcasts` behind the bearer token, `GET /health`, and in outbox mode (REDIS_URL)
 * `GET /broadcasts/:id`. Everything else is a JSON 404. `baseUrl` overrides the config's target (the in-process
 * emulator in emulator mode). `ready` resolves once the outbox is open and this process delivers from it.
 */
export function createApp(config: Config, options: { logger?: Logger; baseUrl?: string; telemetry?: Telemetry } = {}): { app: Express; ready: Promise<void> } {
  const logger = options.logger ?? console;
  const target = options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : config.target;
  if (!target) throw new Error('no API target: set TIM_REGION or TIM_BASE_URL');

  const app = express();
  app.disable('x-powered-by');
  if (options.telemetry) {
    app.use(options.telemetry.tracing);
    app.get('/metrics', options.telemetry.metrics);
  }
  const middleware = broadcastMiddleware({
    sdkAppId: config.sdkAppId,
    secretKey: config.secretKey,
    identifier: config.identifier,
    ...target,
    logger,
    // in outbox mode the limiter is shared through the outbox's Redis by every process
    rateLimit: { ratePerSecond: config.ratePerSecond },
    ...(config.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: config.shutdownTimeoutMs }),
    // outbox mode: POST /broadcasts answers 202 { id } once Redis holds it; GET /broadcasts/:id reads its status
    ...(config.redisUrl && config.outbox
      ? { outbox: { redis: config.redisUrl, deliver: config.outbox.deliver, coalesce: true, ...(config.outbox.name ? { name: config.outbox.name } : {}) } }
      : {}),
  });
  app.use(middleware);
  app.get('/health', createHealthHandler());
  app.use('/broadcasts', createBroadcastRouter({ bearerToken: config.adminToken, logger, ...(config.deadlineMs === undefined ? {} : { deadlineMs: config.deadlineMs }) }));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: `try POST /broadcasts${config.redisUrl ? ', GET /broadcasts/:id' : ''} or GET /health` });
  });
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    logger.error?.('express-example: request failed', { error: err instanceof Error ? err.name : typeof err });
    if (res.headersSent) return void res.destroy();
    res.status(500).json({ error: 'internal_error', message: 'internal error' });
  };
  app.use(onError);
  return { app, ready: middleware.ready };
}

export interface RunningService {
  /** e.g. `http://127.0.0.1:3000` */
  readonly url: string;
  readonly app: Express;
  readonly server: Server;
  readonly config: Config;
  /** The in-process emulator, in emulator mode. */
  readonly emulator: Emulator | undefined;
  /** `GET /metrics` and, with OTEL_EXPORTER_OTLP_ENDPOINT, trace export (see telemetry.ts). */
  readonly telemetry: Telemetry;
  /** Stops taking connections, drains the broadcast queue (every waiting caller gets its answer), then stops. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Overrides PORT (0 picks a free port). */
  port?: number;
  logger?: Logger;
}

/** Reads the config, starts the emulator when there are no credentials, and listens. */
export async function start(options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? console;
  const config = loadConfig(options.env ?? process.env);
  const port = options.port ?? config.port;

  let emulator: Emulator | undefined;
  if (config.mode === 'emulator') {
    emulator = await startEmulator({
      sdkAppId: config.sdkAppId,
      secretKey: config.secretKey,
      admin: config.identifier,
      ratePerSecond: Math.max(1, Math.ceil(config.ratePerSecond)),
    });
    logger.info?.(
      `express-example: no TIM_SDKAPPID/TIM_SECRET_KEY set, so broadcasts go to an in-process emulator at ${emulator.url} (test credentials; nothing reaches Tencent)`,
    );
  }

  const telemetry = startTelemetry(options.env ?? process.env, 'express-example');
  let app: Express;
  try {
    let ready: Promise<void>;
    ({ app, ready } = createApp(config, { logger, telemetry, ...(emulator ? { baseUrl: emulator.url } : {}) }));
    // outbox mode: fail at start-up, not on the first request, when the outbox cannot open
    await ready.catch(async (err: unknown) => {
      await closeBroadcast(app);
      throw err;
    });
  } catch (err) {
    await emulator?.close();
    await telemetry.shutdown();
    throw err;
  }
  const server = app.listen(port, config.host);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (err) {
    await closeBroadcast(app);
    await emulator?.close();
    await telemetry.shutdown();
    throw err;
  }
  const { port: actualPort } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${actualPort}`;

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    // open connections stay up so the callers still waiting in the queue get their answers
    await closeBroadcast(app);
    server.closeIdleConnections();
    const forced = setTimeout(() => server.closeAllConnections(), 2_000);
    await stopped;
    clearTimeout(forced);
    await emulator?.close();
    await telemetry.shutdown(); // last: flushes the spans of the broadcasts drained above
  }

  return {
    url,
    app,
    server,
    config,
    emulator,
    telemetry,
    close: () => (closing ??= close()),
  };
}
