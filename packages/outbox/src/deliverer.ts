import { randomBytes } from 'node:crypto';
import { randomUint32, sleep, type BroadcastClient, type BroadcastRequest, type BroadcastResult, type Logger } from '@tim-broadcast/core';
import { mergeBatch, nextBatchSize, packable, type Packable, type RateLimiter } from '@tim-broadcast/rate-limit';
import { OutboxClosedError, OutboxRedisError } from './errors';
import type { Emit } from './hooks';
import type { OutboxClock } from './options';
import type { Blocker, RedisLink } from './redis';
import type { HeadEntry, OutboxStore } from './store';
import type { OutboxTelemetry, StoredTrace } from './telemetry';
import { describeError, verdictOf } from './verdict';
import { RESEND_WINDOW_MS } from './window';

/** Stream entries looked at per peek at most (the byte budget usually stops it much sooner). */
const PEEK_LIMIT = 1_000;
/** Backoff before re-sending a batch that may have been delivered, or retrying after a refusal not due to content. */
const RETRY_BASE_MS = 1_000;
const RETRY_CAP_MS = 30_000;
/** Backoff while Redis fails. */
const REDIS_BASE_MS = 100;
const REDIS_CAP_MS = 5_000;
/** Longest idle block: an idle deliverer looks again at least this often (scheduled broadcasts, reclaims). */
const IDLE_CAP_MS = 5_000;
const GC_INTERVAL_MS = 10_000;
const GC_LIMIT = 500;
/** Set on what a closing deliverer holds, so any other deliverer claims it at its next look. */
const RELEASE_IDLE_MS = 86_400_000;

export interface DelivererOptions {
  store: OutboxStore;
  link: RedisLink;
  client: BroadcastClient;
  consumer: string;
  clock: OutboxClock;
  coalesce: boolean;
  maxBytes: number;
  leaseMs: number;
  emit: Emit;
  logger: Logger | undefined;
  telemetry: OutboxTelemetry | undefined;
}

/** A stream entry with its request parsed once; `packed` is what the packing function reads. */
interface Waiting {
  sid: string;
  id: string;
  request: BroadcastRequest;
  alone: boolean;
  packed: Packable;
  trace: StoredTrace;
}

/** A recorded batch this deliverer owns. `requests` is unknown for a batch taken over from another deliverer. */
interface Owned {
  bid: string;
  ids: string[];
  sids: string[];
  alone: boolean[];
  requests: BroadcastRequest[];
  /** The members' traces (empty for a batch taken over, until its re-send reads them). */
  traces: StoredTrace[];
  rnd: number;
  first: number;
  exp: number;
  calls: number;
  retryAt: number;
  failures: number;
}

/**
 * One process's delivery loop: re-sends the recorded batches it owns, then packs what it holds and the head of the
 * stream into a call at the moment the limiter grants a slot, records that batch (Lua, atomic), sends it, records
 * the outcome. A heartbeat keeps its lease; a reclaim round takes over the work of deliverers that lost theirs.
 */
export class Deliverer {
  readonly #o: DelivererOptions;
  /** Entries pending with this deliverer and in no batch (its batch was refused or held back), oldest first. */
  #held: Waiting[] = [];
  /** Recorded batches to (re-)send, oldest first. */
  #owned: Owned[] = [];
  /** The batch being sent. */
  #current: Owned | undefined;
  /** Stop taking work. */
  readonly #soft = new AbortController();
  /** Abort the call in flight (the close deadline). */
  readonly #hard = new AbortController();
  #loop: Promise<void> | undefined;
  #blocker: Blocker | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #nextReclaimAt = 0;
  #nextGcAt = 0;
  #holdUntil = 0;
  #holdFailures = 0;
  #failing = false;
  lastError: Error | undefined;
  lastErrorAt: Date | undefined;

  constructor(options: DelivererOptions) {
    this.#o = options;
  }

  get consumer(): string {
    return this.#o.consumer;
  }

  /** Steps have been failing (Redis, the limiter) since the last one that succeeded. */
  get failing(): boolean {
    return this.#failing;
  }

  async start(): Promise<void> {
    const { store, link, consumer, leaseMs } = this.#o;
    this.#blocker = await link.blocker((err) => this.#o.logger?.debug?.('tim-broadcast outbox: blocking connection error', { error: err.message }));
    try {
      await store.heartbeat(consumer, []);
    } catch (err) {
      this.#blocker.close();
      throw err;
    }
    const beat = () => {
      this.#heartbeat = setTimeout(() => void this.#beat().finally(() => !this.#soft.signal.aborted && beat()), leaseMs / 3);
      this.#heartbeat.unref?.();
    };
    beat();
    this.#loop = this.#run();
  }

  /** Stops taking work; waits up to `timeoutMs` for the call in flight, then aborts it; hands what it holds over. */
  async stop(timeoutMs: number): Promise<void> {
    this.#soft.abort(new OutboxClosedError());
    this.#blocker?.close();
    const deadline = setTimeout(() => this.#hard.abort(new OutboxClosedError('outbox closed at its deadline while a call was in flight; its batch stays recorded and will be re-sent with the same Random')), timeoutMs);
    try {
      await this.#loop;
    } finally {
      clearTimeout(deadline);
      clearTimeout(this.#heartbeat);
    }
    try {
      await this.#o.store.release(this.#o.consumer, RELEASE_IDLE_MS);
    } catch (err) {
      this.#o.logger?.warn?.('tim-broadcast outbox: could not hand over held work on close; others take it over after the lease', { error: message(err) });
    }
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#soft.signal.aborted) {
      try {
        await this.#step();
        failures = 0;
        this.#recovered();
      } catch (err) {
        if (this.#soft.signal.aborted) break;
        this.#failed(err);
        await this.#pause(backoff(++failures, REDIS_BASE_MS, REDIS_CAP_MS));
      }
    }
  }

  async #step(): Promise<void> {
    if (Date.now() >= this.#nextReclaimAt) {
      await this.#reclaim();
      this.#nextReclaimAt = Date.now() + this.#o.leaseMs / 2;
    }
    if (Date.now() >= this.#nextGcAt) {
      await this.#gc();
      this.#nextGcAt = Date.now() + GC_INTERVAL_MS;
    }
    const owned = this.#owned[0];
    if (owned) {
      const wait = owned.retryAt - Date.now();
      if (wait > 0) return this.#pause(wait);
      return this.#slot(() => this.#resend(owned));
    }
    if (this.#held.length > 0) {
      const wait = this.#holdUntil - Date.now();
      if (wait > 0) return this.#pause(wait);
      return this.#slot(() => this.#takeAndSend());
    }
    // is there anything to send? (promotes due scheduled broadcasts, drops expired ones at the head)
    const view = await this.#o.store.peek(this.#o.consumer, this.#o.maxBytes, PEEK_LIMIT, false);
    this.#expired(view.expired);
    if (view.entries.some((e) => e.live)) return this.#slot(() => this.#takeAndSend());
    if (view.more) return;
    const untilDue = view.nextDue === undefined ? Infinity : view.nextDue - this.#o.clock.now();
    const ms = Math.min(untilDue, this.#nextReclaimAt - Date.now(), IDLE_CAP_MS, this.#o.leaseMs / 2);
    if (ms > 0) await this.#blocker!.wait([this.#o.store.keys.stream, this.#o.store.keys.wake], view.lastIds, ms);
  }

  /** Waits for a slot of the client's limiter, then runs `fn` (which packs and sends); without one, runs it now. */
  async #slot(fn: () => Promise<void>): Promise<void> {
    const limiter = this.#o.client.limiter as Partial<RateLimiter> | undefined;
    if (typeof limiter?.withSlot === 'function') await limiter.withSlot(fn, { signal: this.#soft.signal });
    else await fn();
  }

  /** Packs the next call from what this deliverer holds and the head of the stream, records it, sends it. */
  async #takeAndSend(): Promise<void> {
    const { store, consumer, coalesce, maxBytes } = this.#o;
    for (let tries = 0; tries < 3 && !this.#soft.signal.aborted; tries++) {
      const view = await store.peek(consumer, maxBytes, PEEK_LIMIT, coalesce);
      this.#expired(view.expired);
      const head = view.entries;
      const liveHead = head.filter((e) => e.live).map(toWaiting);
      const waiting = [...this.#held, ...liveHead];
      const size = nextBatchSize(
        waiting.map((w) => w.packed),
        { coalesce, maxBytes },
      );
      if (size === 0) return;
      const members = waiting.slice(0, size);
      const fromHeld = Math.min(size, this.#held.length);
      const fromHead = size - fromHeld;
      let headPlan: [string, string, 0 | 1][] = [];
      if (fromHead > 0) {
        const last = head.findIndex((e) => e.sid === liveHead[fromHead - 1]!.sid);
        headPlan = head.slice(0, last + 1).map((e) => [e.sid, e.id, e.live ? 1 : 0]);
      }
      const own = members.length === 1 ? members[0]!.request?.Random : undefined;
      const rnd = typeof own === 'number' ? own : randomUint32();
      const bid = randomBytes(9).toString('base64url');
      const taken = await store.take(
        consumer,
        bid,
        rnd,
        this.#held.slice(0, fromHeld).map((h) => [h.sid, h.id]),
        headPlan,
      );
      this.#expired(taken.expired);
      if (!taken.ok) {
        // another deliverer took the head first, or something held here expired or was taken over: look again
        if (taken.lost.length) this.#held = this.#held.filter((h) => !taken.lost.includes(h.sid));
        continue;
      }
      this.#held.splice(0, fromHeld);
      await this.#send({
        bid,
        ids: members.map((m) => m.id),
        sids: members.map((m) => m.sid),
        alone: members.map((m) => m.alone),
        requests: members.map((m) => m.request),
        traces: members.map((m) => m.trace),
        rnd,
        first: taken.first,
        exp: taken.exp,
        calls: 1,
        retryAt: 0,
        failures: 0,
      });
      return;
    }
  }

  /** Re-sends a recorded batch as recorded (same entries, same Random), or ends it `uncertain` when that is no longer safe. */
  async #resend(owned: Owned): Promise<void> {
    if (this.#soft.signal.aborted) return;
    const { store, consumer, logger } = this.#o;
    const reply = await store.resend(consumer, owned.bid, RESEND_WINDOW_MS);
    this.#owned = this.#owned.filter((o) => o !== owned);
    if (reply.kind === 'gone' || reply.kind === 'lost') return;
    if (reply.kind === 'uncertain') {
      logger?.warn?.('tim-broadcast outbox: a batch that may have been delivered can no longer be re-sent safely; its broadcasts are uncertain', {
        batchId: owned.bid,
        broadcasts: reply.ids.length,
        reason: reply.reason,
      });
      this.#o.emit('onUncertain', { batchId: owned.bid, ids: reply.ids, reason: reply.reason });
      return;
    }
    await this.#send({
      ...owned,
      ids: reply.ids,
      sids: reply.sids,
      alone: owned.alone.length === reply.ids.length ? owned.alone : reply.ids.map(() => false),
      requests: reply.requests.map((r) => toWaiting({ sid: '', id: '', request: r, alone: true, live: true, trace: NO_TRACE }).request),
      traces: reply.ids.map((_, i) => ({ traceparent: reply.traceparents[i] ?? '', dueAt: undefined })),
      rnd: reply.rnd,
      first: reply.first,
      exp: reply.exp,
      calls: reply.calls,
    });
  }

  async #send(batch: Owned): Promise<void> {
    const { client, clock, store, emit } = this.#o;
    const deadlineMs = Math.floor(Math.min(batch.first + RESEND_WINDOW_MS, batch.exp) - clock.now());
    if (deadlineMs <= 0) {
      if (batch.calls === 1) {
        // taken here and never sent: hand its members back; the next take drops the expired ones
        await this.#refuse(batch, 'hold', true, new OutboxClosedError('expired before it could be sent'));
      } else {
        this.#owned.unshift({ ...batch, retryAt: 0 }); // the next look at it ends it uncertain
      }
      return;
    }
    emit('onSending', { batchId: batch.bid, ids: batch.ids, Random: batch.rnd, batchSize: batch.ids.length, attempt: batch.calls });
    this.#current = batch;
    try {
      let result: BroadcastResult;
      try {
        const send = () => client.broadcast({ ...mergeBatch(batch.requests), Random: batch.rnd }, { signal: this.#hard.signal, deadlineMs, batchSize: batch.ids.length });
        const traces = batch.ids.map((_, i) => batch.traces[i] ?? NO_TRACE);
        result = await (this.#o.telemetry ? this.#o.telemetry.dispatch(traces, batch.calls === 1, send) : send());
      } catch (err) {
        await this.#callFailed(batch, err);
        return;
      }
      this.#holdFailures = 0;
      const ids = await this.#persist(() => store.delivered(batch.bid, batch.ids, batch.sids, result.MsgSeq, result.Random, this.#hard.signal));
      if (ids === undefined) return; // closed before Redis answered: the batch stays recorded, a re-send is a no-op
      emit('onDelivered', { batchId: batch.bid, ids: batch.ids, MsgSeq: result.MsgSeq, Random: result.Random, batchSize: batch.ids.length, attempt: batch.calls });
    } finally {
      this.#current = undefined;
    }
  }

  async #callFailed(batch: Owned, error: unknown): Promise<void> {
    const { logger } = this.#o;
    this.#failed(error, false);
    const verdict = verdictOf(error);
    if (verdict.kind !== 'maybe') {
      const settled = await this.#refuse(batch, verdict.kind, verdict.kind === 'hold' || verdict.firstOnly, error);
      if (settled) return;
      // not settled: an earlier call of this batch may have been delivered
    }
    if (this.#hard.signal.aborted) return; // closing: the batch stays recorded for whoever takes it over
    const failures = batch.failures + 1;
    const delay = backoff(failures, RETRY_BASE_MS, RETRY_CAP_MS);
    logger?.warn?.('tim-broadcast outbox: a call may or may not have been delivered; re-sending the same batch with the same Random later', {
      batchId: batch.bid,
      attempt: batch.calls,
      delayMs: Math.round(delay),
      error: message(error),
    });
    this.#owned.unshift({ ...batch, failures, retryAt: Date.now() + delay });
  }

  /**
   * Dissolves a batch nothing of which was delivered: one member refused for its content ends `failed`; otherwise
   * the members go back to this deliverer's held list (alone after a content refusal). False when the batch had
   * earlier calls that may have been delivered (`firstOnly`), so it must be re-sent as recorded instead.
   */
  async #refuse(batch: Owned, mode: 'poison' | 'hold', firstOnly: boolean, error: unknown): Promise<boolean> {
    const { store, consumer, emit } = this.#o;
    const reply = await this.#persist(() => store.refused(batch.bid, consumer, mode, firstOnly, describeError(error), this.#hard.signal));
    if (reply === undefined || reply.kind === 'gone' || reply.kind === 'lost') return true;
    if (reply.kind === 'not-first') return false;
    if (reply.kind === 'failed') {
      emit('onFailed', { id: batch.ids[0]!, error: error instanceof Error ? error : new Error(String(error)) });
      return true;
    }
    const back = batch.ids.map((id, i) =>
      withPacked({ sid: batch.sids[i]!, id, request: batch.requests[i]!, alone: reply.alone[i] ?? mode === 'poison', trace: batch.traces[i] ?? NO_TRACE }),
    );
    this.#held = sortBySid([...back, ...this.#held]);
    if (mode === 'hold') this.#holdUntil = Date.now() + backoff(++this.#holdFailures, RETRY_BASE_MS, RETRY_CAP_MS);
    return true;
  }

  /** Runs a Redis step until it succeeds, retrying while Redis fails; undefined once the close deadline passed. */
  async #persist<T>(fn: () => Promise<T>): Promise<T | undefined> {
    for (let failures = 0; ; ) {
      try {
        return await fn();
      } catch (err) {
        if (this.#hard.signal.aborted) return undefined;
        if (!(err instanceof OutboxRedisError)) throw err;
        this.#failed(err);
        await sleep(backoff(++failures, REDIS_BASE_MS, REDIS_CAP_MS), this.#hard.signal).catch(() => {});
      }
    }
  }

  /** Takes over the work of deliverers whose lease ran out (their entries idle longer than `leaseMs`). */
  async #reclaim(): Promise<void> {
    const { store, consumer, leaseMs, emit } = this.#o;
    const ids: string[] = [];
    const from = new Set<string>();
    let batches = 0;
    let cursor = '0-0';
    for (let round = 0; round < 20; round++) {
      const reply = await store.reclaim(consumer, leaseMs, cursor);
      this.#expired(reply.expired);
      for (const b of reply.batches) {
        if (this.#owned.some((o) => o.bid === b.bid)) continue;
        this.#owned.push({ bid: b.bid, ids: b.ids, sids: b.sids, alone: [], requests: [], traces: [], rnd: 0, first: 0, exp: 0, calls: 0, retryAt: 0, failures: 0 });
        if (b.from !== consumer) from.add(b.from);
        ids.push(...b.ids);
        batches++;
      }
      for (const entry of reply.held) {
        if (this.#held.some((h) => h.sid === entry.sid)) continue;
        this.#held.push(toWaiting(entry));
        ids.push(entry.id);
      }
      cursor = reply.cursor;
      if (cursor === '0-0') break;
    }
    if (ids.length === 0) return;
    this.#held = sortBySid(this.#held);
    emit('onReclaimed', { ids, batches, from: [...from] });
  }

  async #gc(): Promise<void> {
    const staleMs = Math.max(10 * this.#o.leaseMs, 300_000);
    for (let round = 0; round < 10; round++) {
      if ((await this.#o.store.gc(GC_LIMIT, staleMs)) < GC_LIMIT) break;
    }
  }

  /** Renews the lease on everything held; forgets what another deliverer took over meanwhile (this one stalled). */
  async #beat(): Promise<void> {
    const held = this.#held.map((h) => h.sid);
    const owned = [...this.#owned];
    const known = [...held, ...owned.flatMap((o) => o.sids), ...(this.#current?.sids ?? [])];
    let pending: Set<string>;
    try {
      pending = new Set(await this.#o.store.heartbeat(this.#o.consumer, known));
    } catch (err) {
      this.#failed(err);
      return;
    }
    const lostHeld = held.filter((sid) => !pending.has(sid));
    const lostOwned = owned.filter((o) => o.sids.some((sid) => !pending.has(sid)));
    if (lostHeld.length === 0 && lostOwned.length === 0) return;
    this.#held = this.#held.filter((h) => !lostHeld.includes(h.sid));
    this.#owned = this.#owned.filter((o) => !lostOwned.includes(o));
    this.#o.logger?.warn?.('tim-broadcast outbox: another deliverer took over work this one held (it did not renew its lease in time)', {
      entries: lostHeld.length,
      batches: lostOwned.length,
    });
  }

  #pause(ms: number): Promise<void> {
    return sleep(Math.max(1, Math.min(ms, IDLE_CAP_MS)), this.#soft.signal).catch(() => {});
  }

  #expired(ids: string[]): void {
    if (ids.length) this.#o.emit('onExpired', { ids });
  }

  /** Records an error; `step`: a step of the loop failed (Redis, the limiter), as opposed to one call. */
  #failed(error: unknown, step = true): void {
    this.lastError = error instanceof Error ? error : new Error(String(error));
    this.lastErrorAt = new Date();
    if (step && !this.#failing) {
      this.#failing = true;
      this.#o.logger?.warn?.('tim-broadcast outbox: delivery failing (Redis or the limiter); retrying with backoff', { error: message(error) });
    }
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#o.logger?.info?.('tim-broadcast outbox: delivery working again');
  }
}

function toWaiting(entry: HeadEntry): Waiting {
  let request: unknown;
  try {
    request = JSON.parse(entry.request);
  } catch {
    request = undefined;
  }
  return withPacked({ sid: entry.sid, id: entry.id, request: request as BroadcastRequest, alone: entry.alone, trace: entry.trace });
}

const NO_TRACE: StoredTrace = { traceparent: '', dueAt: undefined };

/** Adds the packing facts; a request that does not even have a MsgBody is sent alone (the client will refuse it). */
function withPacked(w: Omit<Waiting, 'packed'>): Waiting {
  const shaped = typeof w.request === 'object' && w.request !== null && Array.isArray(w.request.MsgBody);
  const packed: Packable = shaped ? packable(w.request, !w.alone) : { request: w.request, bytes: 0, customs: 0, mergeable: false };
  return { ...w, packed };
}

/** Stream ids are "<ms>-<seq>": order them as numbers. */
function sortBySid<T extends { sid: string }>(items: T[]): T[] {
  const key = (sid: string) => sid.split('-').map(Number) as [number, number];
  return items.sort((a, b) => {
    const [am, as] = key(a.sid);
    const [bm, bs] = key(b.sid);
    return am - bm || as - bs;
  });
}

function backoff(failures: number, base: number, cap: number): number {
  const ceiling = Math.min(cap, base * 2 ** (failures - 1));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
