import { ValidationError, type ValidationIssue } from '@tim-broadcast/core';
import { z } from 'zod';
import type { Clock } from './clock';
import { validate } from './validate';
import { resolveFaultPlan, type FaultKind, type FaultPlan, type ResolvedFaultPlan } from './faults';

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
  /** Accepted calls allowed per second (default 1; a positive integer, or Infinity for no limit). */
  ratePerSecond?: number;
  /**
   * How `ratePerSecond` is enforced (default 'window'): 'window' allows `ratePerSecond` accepted calls in any rolling
   * second; 'spacing' requires every accepted call to arrive at least `1000 / ratePerSecond` ms after the last one.
   */
  rateModel?: RateModel;
  /** The console switch "Broadcast messaging of audio-video group" (default true; false answers 10007). */
  broadcastEnabled?: boolean;
  /** Faults to inject from the start (see `setFaults`). */
  faults?: FaultPlan;
  /** Time source for UserSig expiry, the rate window and the dedup window (default `Date.now`). */
  clock?: Clock;
  /** Deliveries kept in memory, newest first to stay (default 10,000); counters keep counting past it. */
  maxDeliveries?: number;
  /**
   * Extra `Host` names the control API and the dashboard answer to, besides loopback names, IP addresses and `host`
   * (e.g. `['emulator']` for a Compose service name; a leading dot matches subdomains: `'.test'`). `true` turns the
   * check off. The broadcast endpoint answers any Host.
   */
  allowedHosts?: string[] | true;
  /** Called after each call to the broadcast endpoint (for logs); never given the UserSig. */
  onCall?: (event: CallEvent) => void;
  /**
   * More apps served by this emulator, besides the one above (at most 100,000 in all). A call goes to the app its
   * `sdkappid` names; each app has its own key, admin, rate limit, dedup window, MsgSeq and counters, and behaves
   * exactly as an emulator serving it alone. Settings, faults and the dashboard are shared.
   */
  apps?: EmulatorApp[];
}

/** One Tencent Cloud Chat app the emulator serves. */
export interface EmulatorApp {
  sdkAppId: number;
  secretKey: string;
  admin: string;
}

/** Most apps one emulator serves. */
export const MAX_EMULATOR_APPS = 100_000;

/** One call to the broadcast endpoint, as seen by `onCall`. */
export interface CallEvent {
  /** Emulator clock, ms. */
  at: number;
  method: string;
  /** The fault injected into this call, if any. */
  fault?: FaultKind;
  /** With several apps (`apps`): the app the call was for (absent when its `sdkappid` names none served). */
  sdkAppId?: number;
  /** The ErrorCode decided (absent for `http502` and `reset`, which answer no envelope). */
  code?: number;
  info?: string;
  MsgSeq?: number;
  /** True when the call repeated a message seen within 5 minutes. */
  duplicate?: boolean;
}

export const RATE_MODELS = ['window', 'spacing'] as const;
export type RateModel = (typeof RATE_MODELS)[number];

/** Settings that can change while the emulator runs. */
export interface EmulatorConfig {
  broadcastEnabled?: boolean;
  ratePerSecond?: number;
  rateModel?: RateModel;
}

// z.number() refuses Infinity, which is how "no limit" is spelt.
const ratePerSecond = z.custom<number>((n) => n === Infinity || (Number.isSafeInteger(n) && (n as number) >= 1), {
  error: 'expected a positive integer or Infinity',
});

const rateModel = z.enum(RATE_MODELS);

export const configSchema = z.strictObject({
  broadcastEnabled: z.boolean().optional(),
  ratePerSecond: ratePerSecond.optional(),
  rateModel: rateModel.optional(),
});

const sdkAppId = z.int().min(1).max(0xffffffff);
const secretKey = z.string().min(1);
const admin = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s) <= 32, { error: 'must be at most 32 bytes' });

const optionsSchema = z.strictObject({
  port: z.int().min(0).max(65_535).optional(),
  host: z.string().min(1).optional(),
  sdkAppId,
  secretKey,
  admin,
  apps: z
    .array(z.strictObject({ sdkAppId, secretKey, admin }))
    .max(MAX_EMULATOR_APPS - 1, { error: `at most ${MAX_EMULATOR_APPS} apps in all` })
    .optional(),
  ratePerSecond: ratePerSecond.optional(),
  rateModel: rateModel.optional(),
  broadcastEnabled: z.boolean().optional(),
  faults: z.unknown().optional(),
  allowedHosts: z.union([z.literal(true), z.array(z.string().min(1).max(253)).max(100)]).optional(),
  clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', { error: 'expected { now(): number }' }).optional(),
  maxDeliveries: z.int().min(1).optional(),
  onCall: z.custom<(event: CallEvent) => void>((v) => typeof v === 'function', { error: 'expected a function' }).optional(),
});

export function validateOptions(options: unknown): EmulatorOptions & { faults?: ResolvedFaultPlan } {
  if (!options || typeof options !== 'object') {
    throw new ValidationError('startEmulator needs an options object', [{ path: [], message: 'expected { sdkAppId, secretKey, admin }' }]);
  }
  const issues: ValidationIssue[] = [];
  let parsed: EmulatorOptions | undefined;
  try {
    parsed = validate<EmulatorOptions>(optionsSchema, options, 'invalid emulator options');
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    issues.push(...err.issues);
  }
  let faults: ResolvedFaultPlan | undefined;
  try {
    faults = resolveFaultPlan((options as EmulatorOptions).faults);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    issues.push(...err.issues);
  }
  if (parsed?.apps) {
    const seen = new Set([parsed.sdkAppId]);
    parsed.apps.forEach((app, i) => {
      if (seen.has(app.sdkAppId)) issues.push({ path: ['apps', i, 'sdkAppId'], message: `SDKAppID ${app.sdkAppId} is served already` });
      seen.add(app.sdkAppId);
    });
  }
  if (issues.length || !parsed) throw new ValidationError('invalid emulator options', issues);
  return { ...parsed, faults: faults! };
}
