import type { AcceptedRequest } from './checks';
import { FAULT_KINDS, type FaultKind } from './faults';

/** One broadcast the emulator accepted and "sent" to every AVChatRoom. */
export interface Delivery {
  /** The app it was broadcast to; set only when the emulator serves several (`apps`). */
  sdkAppId?: number;
  MsgSeq: number;
  /** The body `Random`. */
  Random: number;
  /** When it was accepted, in ms by the emulator's clock. */
  at: number;
  /** The validated request body. */
  body: AcceptedRequest;
  /** UTF-8 bytes of `JSON.stringify(MsgBody)`. */
  bytes: number;
}

export interface EmulatorStats {
  /** Calls to the broadcast endpoint, faulted ones included. */
  requests: number;
  /** Broadcasts delivered (each got a new MsgSeq). */
  accepted: number;
  /** Calls answered OK with an earlier MsgSeq because the same message was sent within 5 minutes. */
  duplicates: number;
  /** Calls answered with a non-zero ErrorCode, by code (checks and injected 10002/10023 alike). */
  rejected: Record<number, number>;
  /** Faults injected, by kind. */
  faults: Record<FaultKind, number>;
  /** The seed of the current fault plan, to replay a run. */
  faultSeed: number;
  /** Smallest gap between two consecutive accepted calls, in ms (null before the second one). */
  minGapMs: number | null;
  /** Most accepted calls seen in any rolling second. */
  maxAcceptedInOneSecond: number;
  /** The last MsgSeq handed out (0 before the first delivery). */
  lastMsgSeq: number;
}

export const DEFAULT_MAX_DELIVERIES = 10_000;

/**
 * The counters of several apps as one: counts are summed; `minGapMs` and `maxAcceptedInOneSecond` are the extremes
 * of each app's own (the rate limit is per app); `lastMsgSeq` is the highest.
 */
export function combineStats(all: EmulatorStats[]): EmulatorStats {
  const [first, ...rest] = all;
  const total: EmulatorStats = { ...first!, rejected: { ...first!.rejected }, faults: { ...first!.faults } };
  for (const s of rest) {
    total.requests += s.requests;
    total.accepted += s.accepted;
    total.duplicates += s.duplicates;
    for (const [code, n] of Object.entries(s.rejected)) total.rejected[Number(code)] = (total.rejected[Number(code)] ?? 0) + n;
    for (const kind of FAULT_KINDS) total.faults[kind] += s.faults[kind];
    if (s.minGapMs !== null) total.minGapMs = total.minGapMs === null ? s.minGapMs : Math.min(total.minGapMs, s.minGapMs);
    total.maxAcceptedInOneSecond = Math.max(total.maxAcceptedInOneSecond, s.maxAcceptedInOneSecond);
    total.lastMsgSeq = Math.max(total.lastMsgSeq, s.lastMsgSeq);
  }
  return total;
}

/** Deliveries (the newest `maxDeliveries`) and counters. */
export class Recorder {
  private list: Delivery[] = [];
  private counters = freshCounters();
  private lastAcceptedAt: number | undefined;
  private readonly maxDeliveries: number;

  constructor(maxDeliveries: number) {
    this.maxDeliveries = maxDeliveries;
  }

  request(): void {
    this.counters.requests++;
  }

  deliver(delivery: Delivery, inLastSecond: number): void {
    this.list.push(delivery);
    if (this.list.length > this.maxDeliveries) this.list.shift();
    const c = this.counters;
    c.accepted++;
    if (this.lastAcceptedAt !== undefined) {
      const gap = delivery.at - this.lastAcceptedAt;
      c.minGapMs = c.minGapMs === null ? gap : Math.min(c.minGapMs, gap);
    }
    this.lastAcceptedAt = delivery.at;
    c.maxAcceptedInOneSecond = Math.max(c.maxAcceptedInOneSecond, inLastSecond);
  }

  duplicate(): void {
    this.counters.duplicates++;
  }

  reject(code: number): void {
    this.counters.rejected[code] = (this.counters.rejected[code] ?? 0) + 1;
  }

  fault(kind: FaultKind): void {
    this.counters.faults[kind]++;
  }

  deliveries(): Delivery[] {
    return this.list.slice();
  }

  stats(faultSeed: number, lastMsgSeq: number): EmulatorStats {
    const c = this.counters;
    return { ...c, rejected: { ...c.rejected }, faults: { ...c.faults }, faultSeed, lastMsgSeq };
  }

  clear(): void {
    this.list = [];
    this.counters = freshCounters();
    this.lastAcceptedAt = undefined;
  }
}

function freshCounters() {
  return {
    requests: 0,
    accepted: 0,
    duplicates: 0,
    rejected: {} as Record<number, number>,
    faults: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>,
    minGapMs: null as number | null,
    maxAcceptedInOneSecond: 0,
  };
}
