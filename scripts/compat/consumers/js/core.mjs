import { createRequire } from 'node:module';
import * as core from '@tim-broadcast/core';
import { createBroadcastClient, verifyUserSig } from '@tim-broadcast/core';
import { main, sameExports } from './harness.cjs';
import scenario from './scenarios/core.cjs';

const require = createRequire(import.meta.url);
main('core', async () => {
  sameExports('@tim-broadcast/core', core, require('@tim-broadcast/core'));
  if (typeof createBroadcastClient !== 'function' || typeof verifyUserSig !== 'function') throw new Error('named ESM imports are missing');
  await scenario(core);
});
