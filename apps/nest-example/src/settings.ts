import { registerAs } from '@nestjs/config';
import { REGIONS, toIssues, ValidationError, type Region } from '@tim-broadcast/core';
import { z } from 'zod';

/** Credentials of a real Tencent Cloud Chat app, and where its API is: a region or a base URL. */
export type TimCredentials = {
  sdkAppId: number;
  secretKey: string;
  identifier: string;
} & ({ region: Region; baseUrl?: undefined } | { baseUrl: string; region?: undefined });

export interface TimSettings {
  /** Absent when no TIM_* credentials are set: the app then runs against the local emulator. */
  credentials?: TimCredentials;
  identifier: string;
  ratePerSecond: number;
  /** Outbox mode: announcements are accepted into a Redis outbox (202) and delivered from it; the limiter is shared too. */
  redisUrl?: string;
  /** Outbox mode: whether this process delivers (OUTBOX_DELIVER, default true; false for a web tier that only enqueues). */
  outboxDeliver: boolean;
  /** Outbox mode: the outbox's name, the same in every process (OUTBOX_NAME, default the SDKAppID). */
  outboxName?: string;
}

// An empty variable counts as unset.
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const envSchema = z
  .object({
    TIM_SDKAPPID: optional(z.coerce.number<string>().int().positive()),
    TIM_SECRET_KEY: optional(z.string()),
    TIM_IDENTIFIER: optional(z.string().min(1)),
    TIM_REGION: optional(z.enum(Object.keys(REGIONS) as [Region, ...Region[]])),
    TIM_BASE_URL: optional(z.url({ protocol: /^https?$/ })),
    TIM_RATE_PER_SECOND: optional(z.coerce.number<string>().positive()),
    REDIS_URL: optional(z.string().regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' })),
    OUTBOX_DELIVER: optional(z.enum(['true', 'false'], { error: 'expected true or false' })),
    OUTBOX_NAME: optional(z.string().regex(/^[^{}]{1,200}$/, { error: 'expected at most 200 characters, no braces' })),
  })
  .superRefine((env, ctx) => {
    const given = [env.TIM_SDKAPPID, env.TIM_SECRET_KEY].filter((v) => v !== undefined).length;
    if (given === 1) {
      const missing = env.TIM_SDKAPPID === undefined ? 'TIM_SDKAPPID' : 'TIM_SECRET_KEY';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'set both TIM_SDKAPPID and TIM_SECRET_KEY, or neither to use the emulator' });
    }
    if (given === 2 && !env.TIM_REGION === !env.TIM_BASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['TIM_REGION'], message: 'set exactly one of TIM_REGION or TIM_BASE_URL' });
    }
    for (const name of ['OUTBOX_DELIVER', 'OUTBOX_NAME'] as const) {
      if (env[name] !== undefined && env.REDIS_URL === undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'needs REDIS_URL (outbox mode)' });
    }
  });

/** Reads the TIM_* variables; throws a ValidationError naming each bad variable (never echoing the secret). */
export function parseTimEnv(env: Record<string, string | undefined>): TimSettings {
  const result = envSchema.safeParse(env);
  if (!result.success) throw new ValidationError('invalid environment', toIssues(result.error));
  const e = result.data;
  const identifier = e.TIM_IDENTIFIER ?? 'administrator';
  const credentials: TimCredentials | undefined =
    e.TIM_SDKAPPID !== undefined && e.TIM_SECRET_KEY !== undefined
      ? {
          sdkAppId: e.TIM_SDKAPPID,
          secretKey: e.TIM_SECRET_KEY,
          identifier,
          ...(e.TIM_REGION ? { region: e.TIM_REGION } : { baseUrl: e.TIM_BASE_URL! }),
        }
      : undefined;
  return {
    credentials,
    identifier,
    ratePerSecond: e.TIM_RATE_PER_SECOND ?? 1,
    redisUrl: e.REDIS_URL,
    outboxDeliver: e.OUTBOX_DELIVER !== 'false',
    outboxName: e.OUTBOX_NAME,
  };
}

/** `ConfigService.get('tim')`: the parsed TIM_* settings. */
export const timConfig = (env: Record<string, string | undefined>) => registerAs('tim', () => parseTimEnv(env));
