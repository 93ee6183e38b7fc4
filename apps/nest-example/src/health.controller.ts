import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheckService } from '@nestjs/terminus';
import { BroadcastHealthIndicator } from '@tim-broadcast/nestjs/health';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(BroadcastHealthIndicator) private readonly broadcast: BroadcastHealthIndicator,
  ) {}

  /** 200 `{ status: 'ok', details: { broadcast: { status, queued, inFlight, limiter, lastError? } } }`, or 503. */
  @Get()
  check() {
    return this.health.check([() => this.broadcast.isHealthy('broadcast')]);
  }
}
