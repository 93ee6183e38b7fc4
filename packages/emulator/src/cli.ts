#!/usr/bin/env node
import { formatPath, ValidationError } from '@tim-broadcast/core';
import { banner, FLAG_OF, parseCliArgs, USAGE } from './cli-args';
import type { CallEvent } from './options';
import { startEmulator } from './server';

function callLine(event: CallEvent): string {
  const time = new Date(event.at).toISOString().slice(11, 23);
  const fault = event.fault ? ` [fault ${event.fault}]` : '';
  if (event.code === undefined) return `${time} ${event.method} send_broadcast_msg -> no answer${fault}`;
  const verdict =
    event.code === 0 ? `OK MsgSeq=${event.MsgSeq}${event.duplicate ? ' (duplicate)' : ''}` : `FAIL ${event.code} ${event.info ?? ''}`.trimEnd();
  return `${time} ${event.method} send_broadcast_msg -> ${verdict}${fault}`;
}

async function main(): Promise<void> {
  let settings;
  try {
    settings = parseCliArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`tim-broadcast-emulator: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (settings.help) {
    process.stdout.write(USAGE);
    return;
  }

  const { options, quiet } = settings;
  if (!quiet) options.onCall = (event) => process.stdout.write(`${callLine(event)}\n`);

  let emu;
  try {
    emu = await startEmulator(options);
  } catch (err) {
    if (err instanceof ValidationError) {
      const lines = err.issues.map((i) => `  ${FLAG_OF[formatPath(i.path)] ?? formatPath(i.path)}: ${i.message}`);
      process.stderr.write(`tim-broadcast-emulator: invalid settings\n${lines.join('\n')}\n`);
    } else {
      process.stderr.write(`tim-broadcast-emulator: cannot listen: ${(err as Error).message}\n`);
    }
    process.exitCode = 1;
    return;
  }

  process.stdout.write(banner(settings, emu.url, emu.stats.faultSeed));

  const stop = (signal: NodeJS.Signals) => {
    process.stdout.write(`${signal}: closing\n`);
    void emu.close().then(() => {
      process.exitCode = 0;
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
