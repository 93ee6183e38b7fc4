import { randomBytes } from 'node:crypto';
import { startEmulator, type Emulator } from '@tim-broadcast/emulator';

export { deliveredTexts } from '../../../testing/deliveries';

export const SDK_APP_ID = 1400000002;
export const ADMIN = 'administrator';

/** An emulator and the TIM_* variables that point the app at it. */
export async function emulatorEnv(ratePerSecond: number): Promise<{ emu: Emulator; env: Record<string, string> }> {
  const secretKey = randomBytes(24).toString('hex');
  const emu = await startEmulator({ sdkAppId: SDK_APP_ID, secretKey, admin: ADMIN, ratePerSecond });
  return {
    emu,
    env: {
      TIM_SDKAPPID: String(SDK_APP_ID),
      TIM_SECRET_KEY: secretKey,
      TIM_IDENTIFIER: ADMIN,
      TIM_BASE_URL: emu.url,
      TIM_RATE_PER_SECOND: String(ratePerSecond),
    },
  };
}

/**
 * The environment of the app run as a process: this one's (PATH, NODE_OPTIONS, ...) without the app's own settings,
 * loopback on a free port, no colours. What a test passes comes on top.
 */
export function inheritedEnv(): Record<string, string | undefined> {
  const inherited = Object.entries(process.env).filter(([k]) => !k.startsWith('TIM_') && !k.startsWith('OTEL_') && k !== 'REDIS_URL' && k !== 'PORT');
  return { ...Object.fromEntries(inherited), NO_COLOR: '1', PORT: '0', HOST: '127.0.0.1' };
}

export function post(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/announcements`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
