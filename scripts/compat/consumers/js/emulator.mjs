import { createRequire } from 'node:module';
import * as emulator from '@tim-broadcast/emulator';
import { startEmulator } from '@tim-broadcast/emulator';
import { createBroadcastClient, text, ApiError, ValidationError } from '@tim-broadcast/core';
import { main, sameExports } from './harness.cjs';
import scenario from './scenarios/emulator.cjs';

const require = createRequire(import.meta.url);
main('emulator', async () => {
  sameExports('@tim-broadcast/emulator', emulator, require('@tim-broadcast/emulator'));
  await scenario({ startEmulator, createBroadcastClient, text, ApiError, ValidationError });
});
