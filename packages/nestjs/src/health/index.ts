export { BroadcastHealthIndicator } from './broadcast.health';
