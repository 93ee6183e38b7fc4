import { randomBytes } from 'node:crypto';
import { startEmulator, type Emulator } from '@tim-broadcast/emulator';
import type { BroadcastModuleOptions } from '@tim-broadcast/nestjs';

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
export async function emulatorFixture(ratePerSecond = 1): Promise<EmulatorFixture> {
  const secretKey = randomBytes(24).toString('hex');
  const emu = await startEmulator({ sdkAppId: SDK_APP_ID, secretKey, admin: ADMIN, ratePerSecond });
  return {
    emu,
    secretKey,
    options: { sdkAppId: SDK_APP_ID, secretKey, identifier: ADMIN, baseUrl: emu.url, rateLimit: { ratePerSecond } },
  };
}

/** The texts of every delivered message, in delivery order. */
export function deliveredTexts(emu: Emulator): string[] {
  return emu.deliveries.flatMap((d) =>
    d.body.MsgBody.flatMap((el) => (el.MsgType === 'TIMTextElem' ? [el.MsgContent.Text] : [])),
  );
}

