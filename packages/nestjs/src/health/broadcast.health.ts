import { Inject, Injectable, Optional } from '@nestjs/common';
import { ValidationError } from '@tim-broadcast/core';
import type { BroadcasterHealth, OutboxHealth } from '@tim-broadcast/rate-limit';
import { BroadcastRegistry } from '../registry';

/** The outbox part of a registration's health: its counts from Redis, or `down` with the error when Redis did not answer. */
export type BroadcastOutboxHealthReport = OutboxHealth | { status: 'down'; lastError: { name: string; message: string; at: string } };

/**
 * What `isHealthy` resolves with: a @nestjs/terminus `HealthIndicatorResult` (`{ [key]: { status: 'up' | 'down', ... } }`),
 * spelled out here so that this entry does not load terminus.
 */
export type BroadcastHealthResult<Key extends string = 'broadcast'> = {
  [K in Key]: { status: 'up' | 'down' } & Omit<BroadcasterHealth, 'status'> & { outbox?: BroadcastOutboxHealthReport };
};

export interface BroadcastHealthOptions {
  /** The registration to report on (`forRoot({ name })`); default the unnamed one. */
  name?: string;
}

/**
 * A health indicator for @nestjs/terminus's `HealthCheckService`: queue depth, limiter state and the last upstream
 * error of one registration, and with an outbox its backlog, oldest age and deliverers (read from Redis). Down when
 * the broadcaster is closed, its rate-limit store is failing, or its outbox is down or unreachable (terminus then
 * answers 503). It returns terminus's result shape and never imports terminus itself.
 */
@Injectable()
export class BroadcastHealthIndicator {
  constructor(@Optional() @Inject(BroadcastRegistry) private readonly registry?: BroadcastRegistry) {}

  async isHealthy<const Key extends string = 'broadcast'>(key: Key = 'broadcast' as Key, options: BroadcastHealthOptions = {}): Promise<BroadcastHealthResult<Key>> {
    if (!this.registry) {
      throw new ValidationError('BroadcastHealthIndicator', [{ path: ['name'], message: 'no BroadcastModule is registered in this application' }]);
    }
    const registration = this.registry.get(options.name);
    const { status, ...details } = registration.health();
    let outbox: BroadcastOutboxHealthReport | undefined;
    try {
      outbox = await registration.outboxHealth();
    } catch (err) {
      const { name, message } = err instanceof Error ? err : new Error(String(err));
      outbox = { status: 'down', lastError: { name, message, at: new Date().toISOString() } };
    }
    const up = status === 'up' && (outbox === undefined || outbox.status === 'up');
    return { [key]: { ...details, ...(outbox && { outbox }), status: up ? 'up' : 'down' } } as BroadcastHealthResult<Key>;
  }
}
