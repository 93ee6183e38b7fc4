import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { BROADCAST_PATH, isLoopbackHostname } from '@tim-broadcast/core';
import { CONTROL_PREFIX } from './control';
import type { FaultKind } from './faults';
import type { EmulatorOptions, RateModel } from './options';

export const DEFAULT_CLI_PORT = 8080;
export const DEFAULT_CLI_SDKAPPID = 1_400_000_000;
export const DEFAULT_CLI_ADMIN = 'administrator';

export const USAGE = `Usage: tim-broadcast-emulator [flags]

A local stand-in for Tencent Cloud Chat's send_broadcast_msg, for tests and demos.
It listens on loopback unless told otherwise and never forwards anything anywhere.

Flags (environment variable in brackets; flags win):
  --port <n>            TCP port, 0 for a free one (default ${DEFAULT_CLI_PORT}) [TIM_EMULATOR_PORT]
  --host <addr>         interface (default 127.0.0.1) [TIM_EMULATOR_HOST]
  --sdkappid <n>        SDKAppID to accept (default ${DEFAULT_CLI_SDKAPPID}) [TIM_EMULATOR_SDKAPPID]
  --secret <key>        secret key UserSigs must be signed with (default: random, printed) [TIM_EMULATOR_SECRET]
  --admin <name>        app admin account (default ${DEFAULT_CLI_ADMIN}) [TIM_EMULATOR_ADMIN]
  --rate <n>            accepted calls per second, or Infinity (default 1) [TIM_EMULATOR_RATE]
  --rate-model <m>      window (rate calls in any rolling second) or spacing (each accepted call
                        1000/rate ms after the last) (default window) [TIM_EMULATOR_RATE_MODEL]
  --broadcast-disabled  answer 10007 as if the console switch were off [TIM_EMULATOR_BROADCAST_DISABLED=1]
  --fault-rate <p>      probability of a random fault per call, 0..1 (default 0) [TIM_EMULATOR_FAULT_RATE]
  --fault-kinds <list>  comma list of http502,error10002,reset,slow,lostAnswer,throttle10023 [TIM_EMULATOR_FAULT_KINDS]
  --seed <n>            fault PRNG seed, to replay a run (default random, printed) [TIM_EMULATOR_SEED]
  --slow-ms <n>         delay of a slow answer (default 3000) [TIM_EMULATOR_SLOW_MS]
  --max-deliveries <n>  deliveries kept in memory (default 10000) [TIM_EMULATOR_MAX_DELIVERIES]
  --allowed-hosts <a,b> extra Host names for the control API and dashboard, besides localhost, IP
                        addresses and --host ('*' for any) [TIM_EMULATOR_ALLOWED_HOSTS]
  --quiet               no line per call [TIM_EMULATOR_QUIET=1]
  --help                this text
`;

export interface CliSettings {
  options: EmulatorOptions;
  /** True when no secret was given and one was generated (it is then printed). */
  generatedSecret: boolean;
  quiet: boolean;
  help: boolean;
}

/** Maps option paths back to the flag a user typed, for error messages. */
export const FLAG_OF: Record<string, string> = {
  port: '--port',
  host: '--host',
  sdkAppId: '--sdkappid',
  secretKey: '--secret',
  admin: '--admin',
  ratePerSecond: '--rate',
  rateModel: '--rate-model',
  allowedHosts: '--allowed-hosts',
  'faults.rate': '--fault-rate',
  'faults.kinds': '--fault-kinds',
  'faults.seed': '--seed',
  'faults.slowMs': '--slow-ms',
  maxDeliveries: '--max-deliveries',
};

const ENV = {
  port: 'TIM_EMULATOR_PORT',
  host: 'TIM_EMULATOR_HOST',
  sdkappid: 'TIM_EMULATOR_SDKAPPID',
  secret: 'TIM_EMULATOR_SECRET',
  admin: 'TIM_EMULATOR_ADMIN',
  rate: 'TIM_EMULATOR_RATE',
  'rate-model': 'TIM_EMULATOR_RATE_MODEL',
  'allowed-hosts': 'TIM_EMULATOR_ALLOWED_HOSTS',
  'broadcast-disabled': 'TIM_EMULATOR_BROADCAST_DISABLED',
  'fault-rate': 'TIM_EMULATOR_FAULT_RATE',
  'fault-kinds': 'TIM_EMULATOR_FAULT_KINDS',
  seed: 'TIM_EMULATOR_SEED',
  'slow-ms': 'TIM_EMULATOR_SLOW_MS',
  'max-deliveries': 'TIM_EMULATOR_MAX_DELIVERIES',
  quiet: 'TIM_EMULATOR_QUIET',
} as const;

/** Reads flags, then environment variables, into `startEmulator` options (validated later by it). */
export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv): CliSettings {
  const { values } = parseArgs({
    args: joinNegativeValues(argv),
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      sdkappid: { type: 'string' },
      secret: { type: 'string' },
      admin: { type: 'string' },
      rate: { type: 'string' },
      'rate-model': { type: 'string' },
      'allowed-hosts': { type: 'string' },
      'broadcast-disabled': { type: 'boolean' },
      'fault-rate': { type: 'string' },
      'fault-kinds': { type: 'string' },
      seed: { type: 'string' },
      'slow-ms': { type: 'string' },
      'max-deliveries': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const text = (name: Exclude<keyof typeof ENV, 'broadcast-disabled' | 'quiet'>): string | undefined => {
    const value = values[name] ?? env[ENV[name]];
    return value === undefined || value === '' ? undefined : value;
  };
  const flag = (name: 'broadcast-disabled' | 'quiet'): boolean => values[name] ?? /^(1|true|yes|on)$/i.test(env[ENV[name]] ?? '');
  const num = (name: Parameters<typeof text>[0]): number | undefined => {
    const value = text(name);
    return value === undefined ? undefined : Number(value);
  };

  const given = text('secret');
  const options: EmulatorOptions = {
    port: num('port') ?? DEFAULT_CLI_PORT,
    host: text('host') ?? '127.0.0.1',
    sdkAppId: num('sdkappid') ?? DEFAULT_CLI_SDKAPPID,
    secretKey: given ?? randomBytes(32).toString('hex'),
    admin: text('admin') ?? DEFAULT_CLI_ADMIN,
    ratePerSecond: num('rate') ?? 1,
    broadcastEnabled: !flag('broadcast-disabled'),
  };
  const faults: NonNullable<EmulatorOptions['faults']> = {};
  const faultRate = num('fault-rate');
  const kinds = text('fault-kinds');
  const seed = num('seed');
  const slowMs = num('slow-ms');
  if (faultRate !== undefined) faults.rate = faultRate;
  if (kinds !== undefined) faults.kinds = kinds.split(',').map((k) => k.trim()) as FaultKind[];
  if (seed !== undefined) faults.seed = seed;
  if (slowMs !== undefined) faults.slowMs = slowMs;
  if (Object.keys(faults).length) options.faults = faults;
  const rateModel = text('rate-model');
  if (rateModel !== undefined) options.rateModel = rateModel as RateModel;
  const allowedHosts = text('allowed-hosts');
  if (allowedHosts !== undefined) {
    const names = allowedHosts.split(',').map((h) => h.trim()).filter(Boolean);
    options.allowedHosts = names.includes('*') ? true : names;
  }
  const maxDeliveries = num('max-deliveries');
  if (maxDeliveries !== undefined) options.maxDeliveries = maxDeliveries;

  return { options, generatedSecret: given === undefined, quiet: flag('quiet'), help: values.help ?? false };
}

/**
 * `--rate -1` as `--rate=-1`: node:util's parseArgs takes a value starting with '-' for a flag, which would turn a
 * bad number into a confusing "unknown option '-1'" instead of the emulator naming the bad value.
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (/^--[a-z-]+$/.test(arg) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export function isLoopback(host: string): boolean {
  return isLoopbackHostname(host.includes(':') ? `[${host}]` : host);
}

/** What the CLI prints once listening: where it is, the credentials to use, and what it will do. */
export function banner(settings: CliSettings, url: string, faultSeed: number): string {
  const { options, generatedSecret } = settings;
  const host = options.host ?? '127.0.0.1';
  const rate = options.ratePerSecond ?? 1;
  const spacing = options.rateModel === 'spacing';
  const faults = options.faults?.rate
    ? `rate ${options.faults.rate} of ${(options.faults.kinds ?? ['all kinds']).join(',')}, seed ${faultSeed}`
    : 'none';
  const lines = [
    `tim-broadcast emulator listening on ${url}`,
    `  dashboard ${url}/  (live deliveries, counters and fault controls in your browser)`,
    isLoopback(host)
      ? '  loopback only: reachable from this machine alone; nothing is forwarded anywhere'
      : `  WARNING: listening on ${host}, reachable from other machines; the control API has no authentication. Nothing is forwarded anywhere.`,
    `  endpoint  POST ${url}${BROADCAST_PATH}`,
    `  sdkappid  ${options.sdkAppId}`,
    `  admin     ${options.admin}`,
    generatedSecret ? `  secret    ${options.secretKey}  (generated for this session)` : '  secret    (as given; not printed)',
    `  rate      ${rate === Infinity ? 'unlimited' : spacing ? `${rate}/s, each accepted call ≥ ${+(1000 / rate).toFixed(3)} ms after the last (spacing)` : `${rate} call(s) per rolling second`}`,
    `  broadcast ${options.broadcastEnabled === false ? 'disabled (answers 10007)' : 'enabled'}`,
    `  faults    ${faults}`,
    `  control   GET ${CONTROL_PREFIX}deliveries, GET ${CONTROL_PREFIX}stats, POST ${CONTROL_PREFIX}reset, GET|POST ${CONTROL_PREFIX}faults, GET|POST ${CONTROL_PREFIX}config`,
    '            (POST bodies as content-type: application/json)',
    '  Ctrl-C to stop.',
  ];
  return `${lines.join('\n')}\n`;
}
