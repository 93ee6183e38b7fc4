export { BroadcastHealthIndicator, type BroadcastHealthOptions, type BroadcastHealthResult } from './broadcast.health';
