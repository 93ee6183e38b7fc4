import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import {
  QueueFullError,
  TimBroadcastError,
  type BroadcastCallOptions,
  type BroadcastClient,
  type BroadcastClientOptions,
  type BroadcastRequestInput,
} from '@tim-broadcast/core';
import type {
  AppOutbox,
  Broadcaster,
  BroadcasterHealth,
  EnqueueOptions,
  EnqueueResult,
  Outbox,
  OutboxHealth,
  OutboxStatus,
  QueueResult,
  QueueSendOptions,
  WaitOptions,
} from '@tim-broadcast/rate-limit';
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
 * With the `outbox` option it also enqueues them into a durable Redis outbox, and (unless `deliver: false`) delivers
 * from it from application bootstrap until shutdown.
 * Inject the unnamed registration's as `BroadcastService`, a named one's with `@InjectBroadcast('eu')`.
 */
@Injectable()
export class BroadcastService implements OnApplicationBootstrap, BeforeApplicationShutdown, Registration {
  private readonly logger: Logger;

  /** Made by `BroadcastModule`; not a class to list in your own providers. */
  constructor(
    private readonly broadcaster: Broadcaster,
    private readonly directClient: BroadcastClient,
    private readonly registry?: BroadcastRegistry,
    /** The registration's name (`'default'` for the unnamed one). */
    readonly name: string = DEFAULT_BROADCAST_NAME,
    private readonly registered?: AppOutbox,
  ) {
    this.logger = new Logger(name === DEFAULT_BROADCAST_NAME ? 'BroadcastService' : `BroadcastService:${name}`);
    registry?.add(this);
  }

  /**
   * Adds a broadcast to the outbox; resolves with `{ id, duplicate }` once Redis holds it (it is delivered later, by
   * whichever process delivers). Throws `ValidationError` at once for a bad request (nothing is added),
   * `OutboxRedisError` when Redis does not answer, `OutboxClosedError` during shutdown. Needs the `outbox` option.
   */
  enqueue(request: BroadcastRequestInput, options?: EnqueueOptions): Promise<EnqueueResult> {
    return this.requireOutbox('enqueue').enqueue(request, options);
  }

  /** The broadcast's status (`{ id, state, MsgSeq?, ... }`), or undefined for an unknown id. Needs the `outbox` option. */
  status(id: string, options?: { signal?: AbortSignal }): Promise<OutboxStatus | undefined> {
    return this.requireOutbox('status').status(id, options);
  }

  /**
   * Resolves with the status once the broadcast is delivered; rejects with `OutboxFailedError`, `OutboxExpiredError`
   * or `OutboxUncertainError` when it ends otherwise, `OutboxNotFoundError`, `OutboxWaitTimeoutError` at `timeoutMs`.
   * Needs the `outbox` option.
   */
  wait(id: string, options?: WaitOptions): Promise<OutboxStatus> {
    return this.requireOutbox('wait').wait(id, options);
  }

  /** The registration's outbox, when it has the `outbox` option. */
  get outbox(): Outbox | undefined {
    return this.registered?.outbox;
  }

  /** The outbox's backlog, oldest age and deliverers, from Redis (undefined without an outbox). Rejects when Redis does not answer. */
  async outboxHealth(): Promise<OutboxHealth | undefined> {
    return this.registered?.outbox.health();
  }

  /** Starts this registration's deliverer when it has an outbox and `deliver` is not false. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.registered?.deliver) await this.registered.outbox.start();
  }

  private requireOutbox(method: string): Outbox {
    if (this.registered) return this.registered.outbox;
    const registration = this.name === DEFAULT_BROADCAST_NAME ? 'the unnamed BroadcastModule registration' : `BroadcastModule '${this.name}'`;
    throw new TimBroadcastError(`BroadcastService.${method}() needs an outbox: ${registration} has no outbox option (forRoot({ ..., outbox: { redis } }))`);
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

  /**
   * Drains this registration's queue and stops its outbox deliverer (both bounded by `shutdownTimeoutMs`; what the
   * outbox holds stays queued in Redis), then closes its transport, limiter and the Redis connections it opened.
   */
  async close(): Promise<void> {
    const { queued, inFlight } = this.broadcaster.health();
    if (queued + inFlight > 0) this.logger.log(`draining ${queued + inFlight} broadcast(s) before shutdown`);
    const registered = this.registered;
    try {
      if (registered) {
        if (registered.outbox.delivering) this.logger.log('stopping the outbox deliverer; what is queued stays in Redis');
        // the deliverer's call in flight needs the client: it closes after both
        await Promise.all([registered.close(), this.broadcaster.queue.close({ timeoutMs: registered.timeoutMs })]);
      }
    } finally {
      await this.broadcaster.close();
    }
  }

  /**
   * Runs before the HTTP server closes, so requests waiting on `send()` still get their answers: stops intake and
   * drains every registration at once (each bounded by its `shutdownTimeoutMs`), then closes them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await (this.registry ? this.registry.closeAll() : this.close());
  }
}
