import { OutboxRedisError } from './errors';
import type { RedisLink } from './redis';
import type { StoredRecord } from './status';
import type { StoredTrace } from './telemetry';

/** The Redis keys of one outbox; the `{name}` hash tag keeps them in one Redis Cluster slot. */
export interface OutboxKeys {
  stream: string;
  records: string;
  scheduled: string;
  later: string;
  batches: string;
  gc: string;
  idempotency: string;
  wake: string;
  deliverers: string;
  /** Pub/sub channel: "<state> <id> <id> …" whenever broadcasts reach a final state. */
  channel: string;
}

export function outboxKeys(prefix: string, name: string): OutboxKeys {
  const base = `${prefix}{${name}}`;
  return {
    stream: `${base}:q`,
    records: `${base}:rec`,
    scheduled: `${base}:sched`,
    later: `${base}:later`,
    batches: `${base}:batches`,
    gc: `${base}:gc`,
    idempotency: `${base}:idem`,
    wake: `${base}:wake`,
    deliverers: `${base}:deliverers`,
    channel: `${base}:done`,
  };
}

/** The consumer group every deliverer of an outbox joins. */
const GROUP = 'deliverers';

/** An entry at the head of the stream (or held by this deliverer). `request` is '' for an entry that will not be sent. */
export interface HeadEntry {
  sid: string;
  id: string;
  request: string;
  alone: boolean;
  live: boolean;
  /** Its enqueuer's W3C traceparent ('' when it was not traced) and when it became due (outbox clock). */
  trace: StoredTrace;
}

export interface Peek {
  entries: HeadEntry[];
  /** When the next scheduled broadcast is due (outbox clock), if any. */
  nextDue: number | undefined;
  /** Newest ids of the stream and of the wake stream, to block on when there is nothing to do. */
  lastIds: [string, string];
  /** The scan stopped at its limit among entries that will not be sent: look again at once. */
  more: boolean;
  expired: string[];
}

export type TakeResult = { ok: true; first: number; exp: number; expired: string[] } | { ok: false; lost: string[]; expired: string[] };

export type ResendResult =
  | { kind: 'ok'; rnd: number; first: number; exp: number; calls: number; ids: string[]; sids: string[]; requests: string[]; traceparents: string[] }
  | { kind: 'uncertain'; reason: string; ids: string[] }
  | { kind: 'gone' }
  | { kind: 'lost' };

export type RefusedResult = { kind: 'held'; alone: boolean[] } | { kind: 'failed' } | { kind: 'not-first' } | { kind: 'gone' } | { kind: 'lost' };

export interface ReclaimResult {
  cursor: string;
  batches: { bid: string; from: string; ids: string[]; sids: string[] }[];
  held: HeadEntry[];
  expired: string[];
}

export interface Counts {
  length: number;
  pending: number;
  scheduled: number;
  oldestAt: number | undefined;
  deliverers: number;
}

/** Each step of the outbox: one call of the Lua script, its reply typed. */
export class OutboxStore {
  readonly keys: OutboxKeys;
  readonly #redis: RedisLink;
  readonly #keyList: string[];
  readonly #retentionMs: number;
  readonly #now: () => number;

  constructor(redis: RedisLink, keys: OutboxKeys, retentionMs: number, now: () => number) {
    this.#redis = redis;
    this.keys = keys;
    this.#keyList = [keys.stream, keys.records, keys.scheduled, keys.later, keys.batches, keys.gc, keys.idempotency, keys.wake, keys.deliverers];
    this.#retentionMs = retentionMs;
    this.#now = now;
  }

  async #op(op: string, args: (string | number)[], signal?: AbortSignal): Promise<unknown> {
    const argv = [op, GROUP, String(this.#now()), this.keys.channel, String(this.#retentionMs), ...args.map(String)];
    return this.#redis.run(this.#keyList, argv, signal);
  }

  async enqueue(
    entry: { id: string; request: string; expiresAt: number; sendAt: number | undefined; bytes: number; idempotencyKey: string | undefined; traceparent: string },
    signal?: AbortSignal,
  ): Promise<{ id: string; created: boolean }> {
    const reply = (await this.#op(
      'enqueue',
      [entry.id, entry.request, entry.expiresAt, entry.sendAt ?? '', entry.bytes, entry.idempotencyKey ?? '', entry.traceparent],
      signal,
    )) as [string, number];
    return { id: String(reply[0]), created: Number(reply[1]) === 1 };
  }

  async status(id: string, signal?: AbortSignal): Promise<{ record: StoredRecord; expired: boolean } | undefined> {
    const reply = (await this.#op('status', [id], signal)) as [string, unknown[]] | null;
    if (!reply) return undefined;
    return { record: parseRecord(reply[0]), expired: list(reply[1]).length > 0 };
  }

  async peek(me: string, budget: number, limit: number, coalesce: boolean): Promise<Peek> {
    const [out, nextDue, lastQ, lastW, more, expired] = (await this.#op('peek', [me, budget, limit, coalesce ? 1 : 0])) as [
      unknown[],
      string,
      string,
      string,
      number,
      unknown[],
    ];
    return {
      entries: list(out).map(headEntry),
      nextDue: nextDue === '' ? undefined : Number(nextDue),
      lastIds: [String(lastQ), String(lastW)],
      more: Number(more) === 1,
      expired: strings(expired),
    };
  }

  async take(me: string, bid: string, rnd: number, held: [string, string][], head: [string, string, 0 | 1][]): Promise<TakeResult> {
    const [status, lost, first, exp, expired] = (await this.#op('take', [me, bid, rnd, JSON.stringify(held), JSON.stringify(head)])) as [
      string,
      unknown[],
      number,
      number,
      unknown[],
    ];
    if (status === 'ok') return { ok: true, first: Number(first), exp: Number(exp), expired: strings(expired) };
    return { ok: false, lost: strings(lost), expired: strings(expired) };
  }

  async resend(me: string, bid: string, windowMs: number): Promise<ResendResult> {
    const reply = (await this.#op('resend', [me, bid, windowMs])) as unknown[];
    const kind = String(reply[0]);
    if (kind === 'ok') {
      const [, rnd, first, exp, calls, ids, sids, requests, traceparents] = reply;
      return {
        kind,
        rnd: Number(rnd),
        first: Number(first),
        exp: Number(exp),
        calls: Number(calls),
        ids: strings(ids),
        sids: strings(sids),
        requests: strings(requests),
        traceparents: strings(traceparents),
      };
    }
    if (kind === 'uncertain') return { kind, reason: String(reply[1]), ids: strings(reply[2]) };
    if (kind === 'gone' || kind === 'lost') return { kind } as ResendResult;
    throw new OutboxRedisError(`unexpected reply to resend: ${JSON.stringify(reply)}`);
  }

  /** Records a delivery; returns the ids it moved to `delivered`. */
  async delivered(bid: string, ids: string[], sids: string[], MsgSeq: number, Random: number, signal?: AbortSignal): Promise<string[]> {
    return strings(await this.#op('delivered', [bid, JSON.stringify({ ids, sids, seq: MsgSeq, rnd: Random })], signal));
  }

  async refused(
    bid: string,
    me: string,
    mode: 'poison' | 'hold',
    firstOnly: boolean,
    error: { name: string; message: string; code?: number },
    signal?: AbortSignal,
  ): Promise<RefusedResult> {
    const reply = (await this.#op('refused', [bid, me, mode, firstOnly ? 1 : 0, JSON.stringify(error)], signal)) as [string, unknown[]?];
    const kind = String(reply[0]);
    if (kind === 'held') return { kind, alone: strings(reply[1]).map((flag) => flag === '1') };
    if (kind === 'failed' || kind === 'not-first' || kind === 'gone' || kind === 'lost') return { kind } as RefusedResult;
    throw new OutboxRedisError(`unexpected reply to refused: ${JSON.stringify(reply)}`);
  }

  /** Renews the lease on `known` (stream ids this deliverer holds); returns those it still holds. */
  async heartbeat(me: string, known: string[]): Promise<string[]> {
    return strings(await this.#op('heartbeat', [me, JSON.stringify(known)]));
  }

  /** Makes what this deliverer holds claimable by any other at once; returns how many entries. */
  async release(me: string, idleMs: number): Promise<number> {
    return Number(await this.#op('release', [me, idleMs]));
  }

  async reclaim(me: string, leaseMs: number, cursor: string): Promise<ReclaimResult> {
    const [next, batches, held, expired] = (await this.#op('reclaim', [me, leaseMs, cursor])) as [string, unknown[], unknown[], unknown[]];
    return {
      cursor: String(next),
      batches: list(batches).map((b) => {
        const [bid, from, ids, sids] = list(b);
        return { bid: String(bid), from: String(from), ids: strings(ids), sids: strings(sids) };
      }),
      held: list(held).map(headEntry),
      expired: strings(expired),
    };
  }

  /** Deletes up to `limit` records finished longer than the retention ago, and deliverers gone for `staleMs`; returns entries looked at. */
  async gc(limit: number, staleMs: number): Promise<number> {
    return Number(await this.#op('gc', [limit, staleMs]));
  }

  async counts(liveMs: number, signal?: AbortSignal): Promise<Counts> {
    const [length, pending, scheduled, oldest, deliverers] = (await this.#op('stats', [liveMs], signal)) as [number, number, number, string, number];
    return {
      length: Number(length),
      pending: Number(pending),
      scheduled: Number(scheduled),
      oldestAt: oldest === '' || oldest === null ? undefined : Number(oldest),
      deliverers: Number(deliverers),
    };
  }
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function strings(value: unknown): string[] {
  return list(value).map(String);
}

function headEntry(value: unknown): HeadEntry {
  const [sid, id, request, alone, traceparent, due] = list(value).map(String) as [string, string, string, string, string?, string?];
  const dueAt = due === undefined ? undefined : Number(due);
  return { sid, id, request, alone: alone === '1', live: request !== '', trace: { traceparent: traceparent ?? '', dueAt: Number.isFinite(dueAt) ? dueAt : undefined } };
}

function parseRecord(raw: string): StoredRecord {
  try {
    return JSON.parse(raw) as StoredRecord;
  } catch (err) {
    throw new OutboxRedisError('a record in Redis is not valid JSON', { cause: err });
  }
}
