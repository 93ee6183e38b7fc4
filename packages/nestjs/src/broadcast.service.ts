import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { QueueFullError, type BroadcastCallOptions, type BroadcastClient, type BroadcastClientOptions, type BroadcastRequestInput } from '@tim-broadcast/core';
import type { Broadcaster, BroadcasterHealth, QueueResult, QueueSendOptions } from '@tim-broadcast/rate-limit';
import type { BroadcastRegistry, Registration } from './registry';
import { refusedBy } from './refusals';
import { DEFAULT_BROADCAST_NAME } from './tokens';

/**
 * What `send()` takes: `signal` and `idempotencyKey`, and the client's per-call options, passed on to the call:
 * `timeoutMs` (per attempt), `deadlineMs` (the whole send, queue and limiter waits included) and `retry`.
 */
export type BroadcastSendOptions = QueueSendOptions &
  Pick<BroadcastCallOptions, 'timeoutMs' | 'deadlineMs'> & {
    /** Overrides the client's retry policy for this broadcast (`false`: one attempt). */
    retry?: BroadcastClientOptions['retry'];
  };

/**
 * Sends broadcasts through the rate-limited queue of one registration; drains it when the application shuts down.
 * Inject the unnamed registration's as `BroadcastService`, a named one's with `@InjectBroadcast('eu')`.
 */
@Injectable()
export class BroadcastService implements BeforeApplicationShutdown, Registration {
  private readonly logger: Logger;

  /** Made by `BroadcastModule`; not a class to list in your own providers. */
  constructor(
    private readonly broadcaster: Broadcaster,
    private readonly directClient: BroadcastClient,
    private readonly registry?: BroadcastRegistry,
    /** The registration's name (`'default'` for the unnamed one). */
    readonly name: string = DEFAULT_BROADCAST_NAME,
  ) {
    this.logger = new Logger(name === DEFAULT_BROADCAST_NAME ? 'BroadcastService' : `BroadcastService:${name}`);
    registry?.add(this);
  }

  /**
   * Queues a broadcast; resolves with `{ MsgSeq, Random, attempts, batchSize }` once Tencent accepted it.
   * Throws `ValidationError` at once for a bad request, `QueueFullError` past `maxQueued`, `QueueClosedError` during shutdown.
   */
  send(request: BroadcastRequestInput, options?: BroadcastSendOptions): Promise<QueueResult> {
    return this.broadcaster.send(request, options as QueueSendOptions).catch((err: unknown) => {
      // lets BroadcastExceptionFilter estimate Retry-After from this registration's queue
      if (err instanceof QueueFullError) refusedBy.set(err, this.broadcaster);
      throw err;
    });
  }

  /** The client, for direct calls that skip the queue (they still go through the limiter). */
  get client(): BroadcastClient {
    return this.directClient;
  }

  /** Queue depth, limiter state and the last upstream error. */
  health(): BroadcasterHealth {
    return this.broadcaster.health();
  }

  /** Drains this registration's queue (bounded by `shutdownTimeoutMs`), then closes its transport, limiter and Redis connection. */
  async close(): Promise<void> {
    const { queued, inFlight } = this.broadcaster.health();
    if (queued + inFlight > 0) this.logger.log(`draining ${queued + inFlight} broadcast(s) before shutdown`);
    await this.broadcaster.close();
  }

  /**
   * Runs before the HTTP server closes, so requests waiting on `send()` still get their answers: stops intake and
   * drains every registration at once (each bounded by its `shutdownTimeoutMs`), then closes them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await (this.registry ? this.registry.closeAll() : this.close());
  }
}
