import { toIssues, ValidationError } from '@tim-broadcast/core';
import { z } from 'zod';
import type { Clock } from './clock';
import { faultPlanSchema, type FaultKind, type FaultPlan } from './faults';

export interface EmulatorOptions {
  /** TCP port (default 0: a free port, see `url`). */
  port?: number;
  /** Interface to listen on (default '127.0.0.1', loopback only). */
  host?: string;
  /** The SDKAppID the emulator knows; any other answers 60006. */
  sdkAppId: number;
  /** The app's secret key: UserSigs must be signed with it. */
  secretKey: string;
  /** The app admin account; any other identifier answers 60010. */
  admin: string;
  /** Accepted calls allowed in any rolling second (default 1; a positive integer, or Infinity for no limit). */
  ratePerSecond?: number;
  /** The console switch "Broadcast messaging of audio-video group" (default true; false answers 10007). */
  broadcastEnabled?: boolean;
  /** Faults to inject from the start (see `setFaults`). */
  faults?: FaultPlan;
  /** Time source for UserSig expiry, the rate window and the dedup window (default `Date.now`). */
  clock?: Clock;
  /** Deliveries kept in memory, newest first to stay (default 10,000); counters keep counting past it. */
  maxDeliveries?: number;
  /** Called after each call to the broadcast endpoint (for logs); never given the UserSig. */
  onCall?: (event: CallEvent) => void;
}

/** One call to the broadcast endpoint, as seen by `onCall`. */
export interface CallEvent {
  /** Emulator clock, ms. */
  at: number;
  method: string;
  /** The fault injected into this call, if any. */
  fault?: FaultKind;
  /** The ErrorCode decided (absent for `http502` and `reset`, which answer no envelope). */
  code?: number;
  info?: string;
  MsgSeq?: number;
  /** True when the call repeated a message seen within 5 minutes. */
  duplicate?: boolean;
}

/** Settings that can change while the emulator runs. */
export interface EmulatorConfig {
  broadcastEnabled?: boolean;
  ratePerSecond?: number;
}

// z.number() refuses Infinity, which is how "no limit" is spelt.
const ratePerSecond = z.custom<number>((n) => n === Infinity || (Number.isSafeInteger(n) && (n as number) >= 1), {
  error: 'expected a positive integer or Infinity',
});

export const configSchema = z.strictObject({
  broadcastEnabled: z.boolean().optional(),
  ratePerSecond: ratePerSecond.optional(),
});

const optionsSchema = z.strictObject({
  port: z.int().min(0).max(65_535).optional(),
  host: z.string().min(1).optional(),
  sdkAppId: z.int().min(1).max(0xffffffff),
  secretKey: z.string().min(1),
  admin: z
    .string()
    .min(1)
    .refine((s) => Buffer.byteLength(s) <= 32, { error: 'must be at most 32 bytes' }),
  ratePerSecond: ratePerSecond.optional(),
  broadcastEnabled: z.boolean().optional(),
  faults: faultPlanSchema.optional(),
  clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', { error: 'expected { now(): number }' }).optional(),
  maxDeliveries: z.int().min(1).optional(),
  onCall: z.custom<(event: CallEvent) => void>((v) => typeof v === 'function', { error: 'expected a function' }).optional(),
});

/** Validates options (or runtime config), throwing a ValidationError that names each bad field. */
export function validate<T>(schema: z.ZodType<T>, input: unknown, summary: string): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(summary, toIssues(result.error));
  return result.data;
}

export function validateOptions(options: unknown): EmulatorOptions {
  if (!options || typeof options !== 'object') {
    throw new ValidationError('startEmulator needs an options object', [{ path: [], message: 'expected { sdkAppId, secretKey, admin }' }]);
  }
  return validate(optionsSchema, options, 'invalid emulator options') as EmulatorOptions;
}
