import { readFileSync } from 'node:fs';
import { closestName, formatPath, isLoopbackHostname, REGIONS, resolveEndpoint, ValidationError, type Region, type ValidationIssue } from '@tim-broadcast/core';
import { usageError } from './errors';

/** The configuration flags every command that talks to an app takes; each overrides its TIM_* variable. */
export interface AppFlags {
  sdkappid?: string;
  identifier?: string;
  region?: string;
  baseUrl?: string;
  secretKeyFile?: string;
  allowInsecureHttp?: boolean;
}

export interface AppConfig {
  sdkAppId: number;
  identifier: string;
  secretKey: string;
  endpoint: { region: Region } | { baseUrl: string; allowInsecureHttp?: true };
  /** For people: `region singapore (https://adminapisgp.im.qcloud.com)` or the base URL. */
  target: string;
  /** The base URL is on this machine (the emulator): no confirmation is asked. */
  loopback: boolean;
}

export const DEFAULT_IDENTIFIER = 'administrator';

/** Where each setting comes from, for messages: the flag, then the variable it overrides. */
export const SOURCES: Record<string, string> = {
  sdkAppId: '--sdkappid / TIM_SDKAPPID',
  identifier: '--identifier / TIM_IDENTIFIER',
  secretKey: '--secret-key-file / TIM_SECRET_KEY',
  region: '--region / TIM_REGION',
  baseUrl: '--base-url / TIM_BASE_URL',
  'baseUrl.primary': '--base-url / TIM_BASE_URL',
  'rateLimit.ratePerSecond': '--rate',
};

type Need = { endpoint: boolean };

/**
 * Reads the app's settings from flags, then TIM_* variables. The secret comes only from TIM_SECRET_KEY or the
 * file named by --secret-key-file; no message ever contains it. Throws a usage error listing every problem.
 */
export function resolveConfig(flags: AppFlags, env: NodeJS.ProcessEnv, need: Need): AppConfig {
  const issues: ValidationIssue[] = [];
  const get = (flag: string | undefined, name: string): string | undefined => {
    const value = flag ?? env[name];
    return value === undefined || value === '' ? undefined : value;
  };

  const rawId = get(flags.sdkappid, 'TIM_SDKAPPID');
  let sdkAppId = 0;
  if (rawId === undefined) issues.push({ path: ['sdkAppId'], message: 'required' });
  else if (!/^[1-9]\d{0,9}$/.test(rawId) || Number(rawId) > 0xffffffff) issues.push({ path: ['sdkAppId'], message: 'expected a positive integer (the app ID from the console)' });
  else sdkAppId = Number(rawId);

  const identifier = get(flags.identifier, 'TIM_IDENTIFIER') ?? DEFAULT_IDENTIFIER;
  const identifierBytes = Buffer.byteLength(identifier, 'utf8');
  if (identifierBytes > 32) issues.push({ path: ['identifier'], message: `must be 1 to 32 bytes, got ${identifierBytes}` });

  const secretKey = readSecret(flags.secretKeyFile, env, issues);

  let endpoint: AppConfig['endpoint'] = { region: 'singapore' };
  let target = '';
  let loopback = false;
  if (need.endpoint) {
    const picked = pickEndpoint(flags, env, issues);
    if (picked) ({ endpoint, target, loopback } = picked);
  }

  if (issues.length) throw configError(issues);
  return { sdkAppId, identifier, secretKey, endpoint, target, loopback };
}

function readSecret(file: string | undefined, env: NodeJS.ProcessEnv, issues: ValidationIssue[]): string {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      issues.push({ path: ['secretKey'], message: `cannot read ${JSON.stringify(file)} (${(err as NodeJS.ErrnoException).code ?? 'read error'})` });
      return '';
    }
    const secret = text.replace(/\r?\n$/, '');
    if (!secret) issues.push({ path: ['secretKey'], message: `${JSON.stringify(file)} is empty` });
    return secret;
  }
  const secret = env.TIM_SECRET_KEY ?? '';
  if (!secret) issues.push({ path: ['secretKey'], message: 'required: set TIM_SECRET_KEY or pass --secret-key-file FILE (never on the command line)' });
  return secret;
}

function pickEndpoint(flags: AppFlags, env: NodeJS.ProcessEnv, issues: ValidationIssue[]): Pick<AppConfig, 'endpoint' | 'target' | 'loopback'> | undefined {
  const fromFlags = flags.region !== undefined || flags.baseUrl !== undefined;
  const region = fromFlags ? flags.region : env.TIM_REGION || undefined;
  const baseUrl = fromFlags ? flags.baseUrl : env.TIM_BASE_URL || undefined;
  if (region !== undefined && baseUrl !== undefined) {
    issues.push({ path: ['baseUrl'], message: `give a region or a base URL, not both (${fromFlags ? '--region and --base-url' : 'TIM_REGION and TIM_BASE_URL'} are set)` });
    return undefined;
  }
  if (region !== undefined) {
    if (!Object.hasOwn(REGIONS, region)) {
      const near = closestName(region, Object.keys(REGIONS));
      issues.push({ path: ['region'], message: `unknown region ${JSON.stringify(region)}${near ? ` (did you mean '${near}'?)` : ''}; regions: ${Object.keys(REGIONS).join(', ')}` });
      return undefined;
    }
    const name = region as Region;
    return { endpoint: { region: name }, target: `region ${name} (${REGIONS[name].primary})`, loopback: false };
  }
  if (baseUrl === undefined) {
    issues.push({ path: ['region'], message: `required: a region (${Object.keys(REGIONS).join(', ')}) or --base-url / TIM_BASE_URL` });
    return undefined;
  }
  const insecure = flags.allowInsecureHttp === true || env.TIM_ALLOW_INSECURE_HTTP === '1';
  try {
    const { primary } = resolveEndpoint({ baseUrl, ...(insecure ? { allowInsecureHttp: true } : {}) });
    return { endpoint: { baseUrl: primary, ...(insecure ? { allowInsecureHttp: true as const } : {}) }, target: primary, loopback: isLoopbackUrl(primary) };
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    // core's message never echoes credentials; it says what is wrong (query, scheme, http to a remote host, ...)
    for (const issue of err.issues) issues.push({ path: ['baseUrl'], message: issue.message });
    return undefined;
  }
}

/** The URL's host is this machine (core's rule: 127.0.0.0/8, [::1] or localhost). */
export function isLoopbackUrl(url: string): boolean {
  return isLoopbackHostname(new URL(url).hostname);
}

/** A usage error naming the flag and variable of each bad setting. */
export function configError(issues: readonly ValidationIssue[]) {
  const lines = issues.map((i) => `  ${SOURCES[formatPath(i.path)] ?? formatPath(i.path)}: ${i.message}`);
  return usageError(`configuration:\n${lines.join('\n')}`);
}

/** A ValidationError of client or broadcaster options as a usage error naming the flags; anything else unchanged. */
export function optionsError(error: unknown): unknown {
  return error instanceof ValidationError ? configError(error.issues) : error;
}
