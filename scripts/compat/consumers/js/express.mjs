import { createRequire } from 'node:module';
import express from 'express';
import * as expressPkg from '@tim-broadcast/express';
import { broadcastMiddleware, createBroadcastRouter, createHealthHandler, closeBroadcast } from '@tim-broadcast/express';
import { startEmulator } from '@tim-broadcast/emulator';
import { main, sameExports } from './harness.cjs';
import scenario from './scenarios/express.cjs';

const require = createRequire(import.meta.url);
main('express', async () => {
  sameExports('@tim-broadcast/express', expressPkg, require('@tim-broadcast/express'));
  await scenario({ express, broadcastMiddleware, createBroadcastRouter, createHealthHandler, closeBroadcast, startEmulator });
});
