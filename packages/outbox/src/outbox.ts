import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  messageBytes,
  parseBroadcastRequest,
  randomFromKey,
  throwIfIssues,
  ValidationError,
  type BroadcastRequest,
  type BroadcastRequestInput,
} from '@tim-broadcast/core';
import type { EnqueueOptions, EnqueueResult, Outbox, OutboxHealth, OutboxStatus, WaitOptions } from '@tim-broadcast/rate-limit';
import { Deliverer } from './deliverer';
import { OutboxClosedError } from './errors';
import { emitter, type Emit } from './hooks';
import { closeOptionIssues, enqueueOptionIssues, resolveOptions, statusOptionIssues, waitOptionIssues, type OutboxOptions } from './options';
import { linkRedis } from './redis';
import { toStatus } from './status';
import { OutboxStore, outboxKeys } from './store';
import { outboxTelemetry } from './telemetry';
import { Waiters } from './wait';

/** A durable outbox on Redis Streams; see the README for the state machine and what durability depends on. */
export function createOutbox(options: OutboxOptions): Outbox {
  const o = resolveOptions(options);
  const { clock, hooks, logger } = o;
  const link = linkRedis(o.redis, o.redisTimeoutMs);
  const keys = outboxKeys(o.prefix, o.name);
  const store = new OutboxStore(link, keys, o.retentionMs, () => clock.now());
  const telemetry = outboxTelemetry(o.name, async () => ({ counts: await store.counts(o.leaseMs), now: clock.now() }));
  const hookEmit = emitter(hooks, logger);
  // telemetry counts the broadcasts that finish, from the events the hooks get
  const emit: Emit = telemetry
    ? (name, event) => {
        if (name === 'onDelivered' || name === 'onExpired' || name === 'onUncertain') {
          telemetry.finished(name === 'onDelivered' ? 'delivered' : name === 'onExpired' ? 'expired' : 'uncertain', (event as { ids: string[] }).ids.length);
        } else if (name === 'onFailed') telemetry.finished('failed', 1);
        hookEmit(name, event);
      }
    : hookEmit;
  const waiters = new Waiters({ link, channel: keys.channel, status: (id) => status(id), clock, leaseMs: o.leaseMs, redisTimeoutMs: o.redisTimeoutMs, logger });
  let deliverer: Deliverer | undefined;
  let starting: Promise<void> | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;

  async function enqueue(input: BroadcastRequestInput, call: EnqueueOptions = {}): Promise<EnqueueResult> {
    if (closed) throw new OutboxClosedError('outbox is closed; nothing was enqueued');
    throwIfIssues('invalid enqueue options', enqueueOptionIssues(call));
    telemetry?.refresh();
    let request: BroadcastRequest = parseBroadcastRequest(input);
    const bytes = messageBytes(request.MsgBody);
    if (bytes > o.maxBytes) {
      throw new ValidationError('invalid broadcast request', [{ path: ['MsgBody'], message: `MsgBody is ${bytes} bytes; the outbox's maxBytes is ${o.maxBytes} (UTF-8 JSON)` }]);
    }
    const { ttlMs, idempotencyKey, signal } = call ?? {};
    if (idempotencyKey !== undefined) {
      const derived = randomFromKey(idempotencyKey);
      if (request.Random !== undefined && request.Random !== derived) {
        throw new ValidationError('invalid enqueue options', [{ path: ['options', 'idempotencyKey'], message: 'give either Random or idempotencyKey, not both' }]);
      }
      request = { ...request, Random: derived };
    }
    const now = clock.now();
    const sendAt = call?.sendAt instanceof Date ? call.sendAt.getTime() : call?.sendAt;
    const scheduled = sendAt !== undefined && sendAt > now ? sendAt : undefined;
    const expiresAt = (scheduled ?? now) + (ttlMs ?? o.maxAgeMs);
    const add = (traceparent: string) =>
      store
        .enqueue({ id: randomBytes(12).toString('base64url'), request: JSON.stringify(request), expiresAt, sendAt: scheduled, bytes, idempotencyKey, traceparent }, signal)
        .then(({ id, created }) => ({ id, duplicate: !created }));
    const { id, duplicate } = await (telemetry ? telemetry.enqueue(bytes, add) : add(''));
    const created = !duplicate;
    if (created) {
      emit('onEnqueued', { id, state: scheduled ? 'scheduled' : 'queued', enqueuedAt: now, expiresAt, ...(scheduled ? { sendAt: scheduled } : {}) });
    }
    return { id, duplicate: !created };
  }

  async function status(id: string, call: { signal?: AbortSignal } = {}): Promise<OutboxStatus | undefined> {
    checkId(id);
    throwIfIssues('invalid status options', statusOptionIssues(call));
    const found = await store.status(id, call?.signal);
    if (!found) return undefined;
    if (found.expired) emit('onExpired', { ids: [id] });
    return toStatus(id, found.record);
  }

  async function wait(id: string, call: WaitOptions = {}): Promise<OutboxStatus> {
    checkId(id);
    throwIfIssues('invalid wait options', waitOptionIssues(call));
    return waiters.wait(id, call ?? {});
  }

  function start(): Promise<void> {
    if (closed) return Promise.reject(new OutboxClosedError('outbox is closed; cannot start delivering'));
    starting ??= (async () => {
      if (!o.client.limiter) {
        logger?.warn?.('tim-broadcast outbox: the client has no limiter; deliverers will not keep to the API rate. Give it a limiter on a RedisStore shared by every replica.');
      }
      const d = new Deliverer({
        store,
        link,
        client: o.client,
        consumer: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
        clock,
        coalesce: o.coalesce,
        maxBytes: o.maxBytes,
        leaseMs: o.leaseMs,
        emit,
        logger,
        telemetry,
      });
      await d.start();
      deliverer = d;
    })();
    starting.catch(() => (starting = undefined));
    return starting;
  }

  async function health(): Promise<OutboxHealth> {
    telemetry?.refresh();
    const counts = await store.counts(o.leaseMs);
    const queued = Math.max(0, counts.length - counts.pending);
    const error = deliverer?.lastError;
    return {
      status: closed || deliverer?.failing ? 'down' : 'up',
      delivering: delivering(),
      queued,
      inProgress: counts.pending,
      scheduled: counts.scheduled,
      backlog: queued + counts.pending + counts.scheduled,
      oldestAgeMs: counts.oldestAt === undefined ? undefined : Math.max(0, clock.now() - counts.oldestAt),
      deliverers: counts.deliverers,
      ...(error && { lastError: { name: error.name, message: error.message, at: (deliverer!.lastErrorAt ?? new Date()).toISOString() } }),
    };
  }

  function delivering(): boolean {
    return deliverer !== undefined && !closed;
  }

  function close(call: { timeoutMs?: number } = {}): Promise<void> {
    try {
      throwIfIssues('invalid close options', closeOptionIssues(call));
    } catch (err) {
      return Promise.reject(err);
    }
    closed = true;
    telemetry?.close();
    closing ??= (async () => {
      await waiters.close();
      await starting?.catch(() => {});
      await deliverer?.stop(call?.timeoutMs ?? 10_000);
    })();
    return closing;
  }

  return {
    name: o.name,
    enqueue,
    status,
    wait,
    start,
    health,
    get delivering() {
      return delivering();
    },
    close,
  };
}

function checkId(id: unknown): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
    throw new ValidationError('invalid broadcast id', [{ path: ['id'], message: 'expected a non-empty string of at most 200 characters' }]);
  }
}
