import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Broadcaster } from '@tim-broadcast/rate-limit';
import { BROADCASTER } from '../tokens';

/**
 * A @nestjs/terminus (11 or 12) indicator: queue depth, limiter state and the last upstream error.
 * Down when the broadcaster is closed or its rate-limit store is failing.
 */
@Injectable()
export class BroadcastHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(BROADCASTER) private readonly broadcaster: Broadcaster,
  ) {}

  isHealthy<const Key extends string = 'broadcast'>(key: Key = 'broadcast' as Key): HealthIndicatorResult<Key> {
    const { status, ...details } = this.broadcaster.health();
    const session = this.indicators.check(key);
    return status === 'up' ? session.up(details) : session.down(details);
  }
}
