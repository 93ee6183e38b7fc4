import { randomBytes } from 'node:crypto';
import { REGIONS, ValidationError, type Region, type ValidationIssue } from '@tim-broadcast/core';

/** What the service runs with, read from the environment. */
export interface Config {
  /** `tencent` with credentials from the environment; `emulator` without (an in-process emulator, test credentials). */
  mode: 'tencent' | 'emulator';
  sdkAppId: number;
  secretKey: string;
  identifier: string;
  /** Where the API is: a region, or a base URL (set later to the emulator's in emulator mode). */
  target: { region: Region } | { baseUrl: string } | undefined;
  adminToken: string;
  /** True when ADMIN_TOKEN was not set and one was generated (emulator mode only). */
  adminTokenGenerated: boolean;
  host: string;
  port: number;
  ratePerSecond: number;
  /** Outbox mode when set: broadcasts are accepted into a Redis outbox (202) and delivered from it; the limiter is shared too. */
  redisUrl: string | undefined;
  /** Outbox mode: whether this process delivers (OUTBOX_DELIVER, default true), and the outbox's name (OUTBOX_NAME). */
  outbox: { deliver: boolean; name: string | undefined } | undefined;
  shutdownTimeoutMs: number | undefined;
  /** How long one broadcast may take before the router answers 503/504 (the router's default when unset). */
  deadlineMs: number | undefined;
}

export const EMULATOR_SDK_APP_ID = 1400000000;
const MIN_ADMIN_TOKEN_LENGTH = 16;

/**
 * Reads TIM_SDKAPPID, TIM_SECRET_KEY, TIM_IDENTIFIER, TIM_REGION or TIM_BASE_URL, ADMIN_TOKEN, HOST, PORT,
 * REDIS_URL, OUTBOX_DELIVER, OUTBOX_NAME, BROADCAST_RATE_PER_SECOND, BROADCAST_DEADLINE_MS and SHUTDOWN_TIMEOUT_MS. Throws a ValidationError naming each bad variable
 * (never echoing a secret).
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const issues: ValidationIssue[] = [];
  const get = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const int = (name: string, fallback: number | undefined, min: number): number | undefined => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min) issues.push({ path: [name], message: `expected an integer ≥ ${min}` });
    return value;
  };

  const sdkAppIdRaw = get('TIM_SDKAPPID');
  const secretKey = get('TIM_SECRET_KEY');
  const mode = sdkAppIdRaw === undefined && secretKey === undefined ? 'emulator' : 'tencent';
  if (mode === 'tencent') {
    if (sdkAppIdRaw === undefined) issues.push({ path: ['TIM_SDKAPPID'], message: 'required with TIM_SECRET_KEY' });
    if (secretKey === undefined) issues.push({ path: ['TIM_SECRET_KEY'], message: 'required with TIM_SDKAPPID' });
  }
  const sdkAppId = mode === 'emulator' ? EMULATOR_SDK_APP_ID : int('TIM_SDKAPPID', 0, 1)!;

  let target: Config['target'];
  const region = get('TIM_REGION');
  const baseUrl = get('TIM_BASE_URL');
  if (region !== undefined && baseUrl !== undefined) issues.push({ path: ['TIM_BASE_URL'], message: 'give TIM_REGION or TIM_BASE_URL, not both' });
  else if (region !== undefined) {
    if (!Object.hasOwn(REGIONS, region)) issues.push({ path: ['TIM_REGION'], message: `expected one of ${Object.keys(REGIONS).join(', ')}` });
    target = { region: region as Region };
  } else if (baseUrl !== undefined) target = { baseUrl };
  else if (mode === 'tencent') issues.push({ path: ['TIM_REGION'], message: 'required with credentials (or TIM_BASE_URL)' });

  let adminToken = get('ADMIN_TOKEN');
  const adminTokenGenerated = adminToken === undefined && mode === 'emulator';
  if (adminToken === undefined) {
    if (mode === 'emulator') adminToken = randomBytes(24).toString('base64url');
    else issues.push({ path: ['ADMIN_TOKEN'], message: 'required: the bearer token callers of POST /broadcasts must send' });
  } else if (adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    issues.push({ path: ['ADMIN_TOKEN'], message: `expected at least ${MIN_ADMIN_TOKEN_LENGTH} characters` });
  } else if (/\s/.test(adminToken)) {
    issues.push({ path: ['ADMIN_TOKEN'], message: 'must not contain whitespace (a bearer token is sent as one word)' });
  }

  const rateRaw = get('BROADCAST_RATE_PER_SECOND');
  const ratePerSecond = rateRaw === undefined ? 1 : Number(rateRaw);
  if (!(ratePerSecond > 0 && ratePerSecond <= 100)) issues.push({ path: ['BROADCAST_RATE_PER_SECOND'], message: 'expected a number above 0 (1 to 5 on real editions)' });

  const redisUrl = get('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) issues.push({ path: ['REDIS_URL'], message: 'expected a redis:// or rediss:// URL' });
  const deliver = get('OUTBOX_DELIVER');
  const outboxName = get('OUTBOX_NAME');
  if (deliver !== undefined && deliver !== 'true' && deliver !== 'false') issues.push({ path: ['OUTBOX_DELIVER'], message: 'expected true or false' });
  for (const [name, value] of [['OUTBOX_DELIVER', deliver], ['OUTBOX_NAME', outboxName]] as const) {
    if (value !== undefined && redisUrl === undefined) issues.push({ path: [name], message: 'needs REDIS_URL (outbox mode)' });
  }
  const config: Config = {
    mode,
    sdkAppId,
    secretKey: secretKey ?? randomBytes(24).toString('hex'),
    identifier: get('TIM_IDENTIFIER') ?? 'administrator',
    target,
    adminToken: adminToken ?? '',
    adminTokenGenerated,
    host: get('HOST') ?? '127.0.0.1',
    port: int('PORT', 3000, 0)!,
    ratePerSecond,
    redisUrl,
    outbox: redisUrl === undefined ? undefined : { deliver: deliver !== 'false', name: outboxName },
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', undefined, 0),
    deadlineMs: int('BROADCAST_DEADLINE_MS', undefined, 1),
  };
  if (issues.length) throw new ValidationError('invalid configuration', issues);
  return config;
}
