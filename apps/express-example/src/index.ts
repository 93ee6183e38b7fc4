export { createApp, start, type RunningService, type StartOptions } from './app';
export { loadConfig, EMULATOR_SDK_APP_ID, type Config } from './config';
export { startTelemetry, type Telemetry } from './telemetry';
