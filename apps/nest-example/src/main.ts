import { Logger } from '@nestjs/common';
import { bootstrap } from './app';
import { Telemetry } from './telemetry';

const port = Number(process.env.PORT || 3000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`failed to start: PORT must be an integer from 0 to 65535, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(1);
}

// SIGTERM/SIGINT: drain the queue (bounded), close transports, Redis and the emulator, then exit 0
bootstrap({ port, host: process.env.HOST || '0.0.0.0', shutdownHooks: true }).then(
  ({ app, url }) => {
    const { tracesUrl } = app.get(Telemetry);
    new Logger('Main').log(`listening on ${url}`);
    new Logger('Main').log(`metrics at ${url}/metrics; traces ${tracesUrl ? `exported to ${tracesUrl}` : 'not exported (set OTEL_EXPORTER_OTLP_ENDPOINT)'}`);
  },
  (err: unknown) => {
    console.error(`failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
