export { startEmulator, MAX_BODY_BYTES, DASHBOARD_BACKLOG, type Emulator } from './server';
export { RATE_MODELS, MAX_EMULATOR_APPS, type EmulatorOptions, type EmulatorApp, type EmulatorConfig, type CallEvent, type RateModel } from './options';
export { FAULT_KINDS, DEFAULT_SLOW_MS, type FaultKind, type FaultPlan, type ResolvedFaultPlan } from './faults';
export { DEFAULT_MAX_DELIVERIES, type Delivery, type EmulatorStats } from './records';
export { MAX_BODY_DEPTH, type AcceptedRequest } from './checks';
export { DEDUP_WINDOW_MS } from './dedup';
export { manualClock, systemClock, type Clock, type ManualClock } from './clock';
export { CONTROL_PREFIX } from './control';
export { runEmulatorCli, type EmulatorCliIo } from './cli-main';
