// Runs the admin service as a process: `node dist/main.mjs`. SIGTERM/SIGINT drain the queue, then exit 0.
import { ValidationError } from '@tim-broadcast/core';
import { start } from './app';

async function main(): Promise<void> {
  let service;
  try {
    service = await start();
  } catch (err) {
    if (err instanceof ValidationError) {
      console.error(`express-example: ${err.message}`);
    } else {
      console.error('express-example: could not start:', err instanceof Error ? err.message : err);
    }
    process.exit(1);
  }
  const { config } = service;
  const target = config.mode === 'emulator' ? 'emulator' : `Tencent Cloud Chat, SDKAppID ${config.sdkAppId}`;
  const outbox = config.outbox ? `; outbox mode, ${config.outbox.deliver ? 'delivering' : 'enqueue only'}` : '';
  console.info(`express-example: listening on ${service.url} (${target}${outbox})`);
  if (config.adminTokenGenerated) {
    console.info(`express-example: ADMIN_TOKEN was not set; generated one for this run: ADMIN_TOKEN=${config.adminToken}`);
  }
  console.info(`express-example: metrics at ${service.url}/metrics; traces ${service.telemetry.tracesUrl ? `exported to ${service.telemetry.tracesUrl}` : 'not exported (set OTEL_EXPORTER_OTLP_ENDPOINT)'}`);
  console.info(`express-example: try  curl -X POST ${service.url}/broadcasts -H 'authorization: Bearer <ADMIN_TOKEN>' -H 'content-type: application/json' -d '{"text":"hello"}'`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.info(`express-example: ${signal} received; draining queued broadcasts`);
    service.close().then(
      () => {
        console.info('express-example: stopped');
        process.exit(0);
      },
      (err: unknown) => {
        console.error('express-example: shutdown failed:', err instanceof Error ? err.message : err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
