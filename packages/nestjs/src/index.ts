export { BroadcastModule } from './broadcast.module';
export { BroadcastService } from './broadcast.service';
export { BROADCAST_CLIENT, BROADCAST_OPTIONS, BROADCASTER } from './tokens';
export type { BroadcastModuleAsyncOptions, BroadcastModuleOptions, BroadcastModuleRootOptions, BroadcastOptionsFactory } from './options';
export type { Broadcaster, BroadcasterHealth, QueueResult, QueueSendOptions } from '@tim-broadcast/rate-limit';
