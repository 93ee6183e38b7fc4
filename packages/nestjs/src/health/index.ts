export { BroadcastHealthIndicator, type BroadcastHealthOptions, type BroadcastHealthResult, type BroadcastOutboxHealthReport } from './broadcast.health';
