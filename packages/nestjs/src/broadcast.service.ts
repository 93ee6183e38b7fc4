import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { BroadcastClient, BroadcastRequestInput } from '@tim-broadcast/core';
import type { Broadcaster, BroadcasterHealth, QueueResult, QueueSendOptions } from '@tim-broadcast/rate-limit';
import { BROADCAST_CLIENT, BROADCASTER } from './tokens';

/** Sends broadcasts through the rate-limited queue; drains it when the application shuts down. */
@Injectable()
export class BroadcastService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('BroadcastService');

  constructor(
    @Inject(BROADCASTER) private readonly broadcaster: Broadcaster,
    @Inject(BROADCAST_CLIENT) private readonly directClient: BroadcastClient,
  ) {}

  /**
   * Queues a broadcast; resolves with `{ MsgSeq, Random, attempts, batchSize }` once Tencent accepted it.
   * Throws `ValidationError` at once for a bad request, `QueueFullError` past `maxQueued`, `QueueClosedError` during shutdown.
   */
  send(request: BroadcastRequestInput, options?: QueueSendOptions): Promise<QueueResult> {
    return this.broadcaster.send(request, options);
  }

  /** The client, for direct calls that skip the queue (they still go through the limiter). */
  get client(): BroadcastClient {
    return this.directClient;
  }

  /** Queue depth, limiter state and the last upstream error. */
  health(): BroadcasterHealth {
    return this.broadcaster.health();
  }

  /**
   * Runs before the HTTP server closes, so requests waiting on `send()` still get their answers:
   * stops intake, drains (bounded by `shutdownTimeoutMs`), then closes transports and Redis connections.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const { queued, inFlight } = this.broadcaster.health();
    if (queued + inFlight > 0) this.logger.log(`draining ${queued + inFlight} broadcast(s) before shutdown`);
    await this.broadcaster.close();
  }
}
