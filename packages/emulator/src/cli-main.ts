import { formatPath, ValidationError } from '@tim-broadcast/core';
import { banner, FLAG_OF, parseCliArgs, USAGE } from './cli-args';
import type { CallEvent } from './options';
import { startEmulator, type Emulator } from './server';

function callLine(event: CallEvent): string {
  const time = new Date(event.at).toISOString().slice(11, 23);
  const fault = event.fault ? ` [fault ${event.fault}]` : '';
  if (event.code === undefined) return `${time} ${event.method} send_broadcast_msg -> no answer${fault}`;
  const verdict =
    event.code === 0 ? `OK MsgSeq=${event.MsgSeq}${event.duplicate ? ' (duplicate)' : ''}` : `FAIL ${event.code} ${event.info ?? ''}`.trimEnd();
  return `${time} ${event.method} send_broadcast_msg -> ${verdict}${fault}`;
}

/** The usage text under the name the command was run as. */
function usage(name: string): string {
  return USAGE.replace(/^Usage: tim-broadcast-emulator/, `Usage: ${name}`);
}

export interface EmulatorCliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** How the command is named in messages (default 'tim-broadcast-emulator'). */
  name?: string;
}

/**
 * Runs the emulator command line (flags, then TIM_EMULATOR_* variables) until SIGINT/SIGTERM. Resolves with the
 * running emulator, or undefined after --help or a bad setting (then `process.exitCode` is set: 2 usage, 1 listen).
 */
export async function runEmulatorCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: EmulatorCliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<Emulator | undefined> {
  const name = io.name ?? 'tim-broadcast-emulator';
  let settings;
  try {
    settings = parseCliArgs(argv, env);
  } catch (err) {
    io.stderr.write(`${name}: ${(err as Error).message}\n\n${usage(name)}`);
    process.exitCode = 2;
    return undefined;
  }
  if (settings.help) {
    io.stdout.write(usage(name));
    return undefined;
  }

  const { options, quiet } = settings;
  if (!quiet) options.onCall = (event) => io.stdout.write(`${callLine(event)}\n`);

  let emu;
  try {
    emu = await startEmulator(options);
  } catch (err) {
    if (err instanceof ValidationError) {
      const lines = err.issues.map((i) => `  ${FLAG_OF[formatPath(i.path)] ?? formatPath(i.path)}: ${i.message}`);
      io.stderr.write(`${name}: invalid settings\n${lines.join('\n')}\n`);
    } else {
      io.stderr.write(`${name}: cannot listen: ${(err as Error).message}\n`);
    }
    process.exitCode = 1;
    return undefined;
  }

  const stop = (signal: NodeJS.Signals) => {
    io.stdout.write(`${signal}: closing\n`);
    void emu.close().then(() => {
      process.exitCode = 0;
    });
  };
  // before the banner: whoever waits for it may signal at once, and an unhandled SIGINT would kill the process
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  io.stdout.write(banner(settings, emu.url, emu.stats.faultSeed));
  return emu;
}

