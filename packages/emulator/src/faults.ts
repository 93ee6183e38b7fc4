import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { validate } from './validate';

export const FAULT_KINDS = ['http502', 'error10002', 'reset', 'slow', 'lostAnswer', 'throttle10023'] as const;

/**
 * - `http502`: HTTP 502 with an HTML body; nothing delivered.
 * - `error10002`: HTTP 200, ErrorCode 10002; nothing delivered.
 * - `reset`: the TCP connection is reset before any answer; nothing delivered.
 * - `slow`: the call is handled at once (delivered if valid) but the answer is sent `slowMs` later.
 * - `lostAnswer`: the call is handled (delivered if valid), then the socket is dropped without an answer.
 * - `throttle10023`: HTTP 200, ErrorCode 10023; nothing delivered.
 */
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultPlan {
  /** Probability (0..1) that a call draws a random fault (default 0). */
  rate?: number;
  /** Kinds the random draw picks among, uniformly (default: all). */
  kinds?: FaultKind[];
  /** PRNG seed (uint32) so a run can be replayed (default: a random seed, reported in `stats.faultSeed`). */
  seed?: number;
  /** Faults for the next calls, one per call, used before any random draw; `'none'` lets a call through. */
  script?: (FaultKind | 'none')[];
  /** Delay of a `slow` answer in ms (default 3,000: the real backend's own timeout). */
  slowMs?: number;
}

/** A plan with every default filled in; `script` holds what is left of it. */
export type ResolvedFaultPlan = Required<FaultPlan>;

export const DEFAULT_SLOW_MS = 3_000;

const kindSchema = z.enum(FAULT_KINDS);

export const faultPlanSchema = z.strictObject({
  rate: z.number().min(0).max(1).optional(),
  kinds: z.array(kindSchema).min(1).optional(),
  seed: z.int().min(0).max(0xffffffff).optional(),
  script: z.array(z.union([kindSchema, z.literal('none')])).optional(),
  slowMs: z.int().min(0).max(600_000).optional(),
});

/** Validates a plan (from code or from the control API); issues are prefixed with `path`. */
export function resolveFaultPlan(input: unknown, path: PropertyKey[] = ['faults']): ResolvedFaultPlan {
  const plan = validate<z.infer<typeof faultPlanSchema>>(faultPlanSchema, input ?? {}, 'invalid fault plan', path);
  return {
    rate: plan.rate ?? 0,
    kinds: plan.kinds ? [...new Set(plan.kinds)] : [...FAULT_KINDS],
    seed: plan.seed ?? randomInt(0, 0xffffffff),
    script: plan.script ? [...plan.script] : [],
    slowMs: plan.slowMs ?? DEFAULT_SLOW_MS,
  };
}

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Decides the fault of each call: the script first, then a seeded random draw. */
export class FaultInjector {
  private plan: ResolvedFaultPlan;
  private random: () => number;

  constructor(plan: ResolvedFaultPlan) {
    this.plan = plan;
    this.random = mulberry32(plan.seed);
  }

  get current(): ResolvedFaultPlan {
    return { ...this.plan, kinds: [...this.plan.kinds], script: [...this.plan.script] };
  }

  get seed(): number {
    return this.plan.seed;
  }

  get slowMs(): number {
    return this.plan.slowMs;
  }

  /** The fault for the next call, or undefined for none. */
  next(): FaultKind | undefined {
    const scripted = this.plan.script.shift();
    if (scripted !== undefined) return scripted === 'none' ? undefined : scripted;
    if (this.plan.rate === 0 || this.random() >= this.plan.rate) return undefined;
    return this.plan.kinds[Math.floor(this.random() * this.plan.kinds.length)];
  }
}
