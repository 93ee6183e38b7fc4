import { Inject, Injectable, Optional } from '@nestjs/common';
import { ValidationError } from '@tim-broadcast/core';
import type { BroadcasterHealth } from '@tim-broadcast/rate-limit';
import { BroadcastRegistry } from '../registry';

/**
 * What `isHealthy` returns: a @nestjs/terminus `HealthIndicatorResult` (`{ [key]: { status: 'up' | 'down', ... } }`),
 * spelled out here so that this entry does not load terminus.
 */
export type BroadcastHealthResult<Key extends string = 'broadcast'> = {
  [K in Key]: { status: 'up' | 'down' } & Omit<BroadcasterHealth, 'status'>;
};

export interface BroadcastHealthOptions {
  /** The registration to report on (`forRoot({ name })`); default the unnamed one. */
  name?: string;
}

/**
 * A health indicator for @nestjs/terminus's `HealthCheckService`: queue depth, limiter state and the last upstream
 * error of one registration. Down when the broadcaster is closed or its rate-limit store is failing (terminus then
 * answers 503). It returns terminus's result shape and never imports terminus itself.
 */
@Injectable()
export class BroadcastHealthIndicator {
  constructor(@Optional() @Inject(BroadcastRegistry) private readonly registry?: BroadcastRegistry) {}

  isHealthy<const Key extends string = 'broadcast'>(key: Key = 'broadcast' as Key, options: BroadcastHealthOptions = {}): BroadcastHealthResult<Key> {
    if (!this.registry) {
      throw new ValidationError('BroadcastHealthIndicator', [{ path: ['name'], message: 'no BroadcastModule is registered in this application' }]);
    }
    const { status, ...details } = this.registry.get(options.name).health();
    return { [key]: { ...details, status } } as BroadcastHealthResult<Key>;
  }
}
