import { randomBytes } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import { startEmulator, type Emulator } from '@tim-broadcast/emulator';
import { fetchTransport, type Transport } from '@tim-broadcast/core';
import type { BroadcastModuleOptions } from '@tim-broadcast/nestjs';
import { recordOutput } from '../../../testing/secret-scan.setup';

export { deliveredTexts } from '../../../testing/deliveries';

export const SDK_APP_ID = 1400000001;
export const ADMIN = 'administrator';

export interface EmulatorFixture {
  emu: Emulator;
  /** Module options pointing at the emulator. */
  options: BroadcastModuleOptions;
  /** The secret, to check it never leaks. */
  secretKey: string;
}

/** A fresh emulator on 127.0.0.1:0 and matching module options. */
export async function emulatorFixture(ratePerSecond = 1, sdkAppId = SDK_APP_ID): Promise<EmulatorFixture> {
  const secretKey = randomBytes(24).toString('hex');
  const emu = await startEmulator({ sdkAppId, secretKey, admin: ADMIN, ratePerSecond });
  return { emu, secretKey, options: { sdkAppId, secretKey, identifier: ADMIN, baseUrl: emu.url, rateLimit: { ratePerSecond } } };
}

/** A second app on its own emulator (another SDKAppID and secret), for named registrations. */
export const SECOND_SDK_APP_ID = 1400000011;
export const secondFixture = (ratePerSecond = 1) => emulatorFixture(ratePerSecond, SECOND_SDK_APP_ID);

export interface LogLine {
  level: string;
  message: string;
  context: string | undefined;
}

/** A Nest LoggerService that records every line (and hands it to the suite-wide secret scan). */
export function recordingNestLogger(onLine?: (line: LogLine) => void): LoggerService & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (message: unknown, ...rest: unknown[]) => {
      const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
      const line = { level, message: String(message), context };
      lines.push(line);
      onLine?.(line);
      recordOutput(`${level} [${context}] ${String(message)}`);
    };
  return { lines, log: at('log'), warn: at('warn'), error: at('error'), debug: at('debug'), verbose: at('verbose'), fatal: at('fatal') };
}

/** The real fetch transport, holding every call until `release()` (keeps a broadcast in flight so the queue fills). */
export function heldTransport(): Transport & { release(): void } {
  const inner = fetchTransport();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    async send(request) {
      await gate;
      return inner.send(request);
    },
    close: () => inner.close(),
    release: () => release(),
  };
}
