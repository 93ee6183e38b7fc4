import { createBroadcastClient, type BroadcastClient, type BroadcastClientOptions, type Limiter } from '@tim-broadcast/core';
import { startEmulator, type Emulator, type EmulatorOptions } from '@tim-broadcast/emulator';

/** The Chat app a test suite plays: its SDKAppID, secret key and admin account. */
export interface TestApp {
  sdkAppId: number;
  secretKey: string;
  admin: string;
}

/** An emulator of `app` (20 calls/s unless `options` say otherwise), and a client of `app` calling `baseUrl`. */
export function testApp(app: TestApp) {
  return {
    emulator: (options: Partial<EmulatorOptions> = {}): Promise<Emulator> => startEmulator({ ...app, ratePerSecond: 20, ...options }),
    clientFor: (baseUrl: string, limiter?: Limiter, extra: Partial<BroadcastClientOptions> = {}): BroadcastClient =>
      createBroadcastClient({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: app.admin, baseUrl, limiter, ...extra } as BroadcastClientOptions),
  };
}
