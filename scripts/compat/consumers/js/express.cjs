const { main } = require('./harness.cjs');
const express = require('express');
const { broadcastMiddleware, createBroadcastRouter, createHealthHandler, closeBroadcast } = require('@tim-broadcast/express');
const { startEmulator } = require('@tim-broadcast/emulator');
const scenario = require('./scenarios/express.cjs');

main('express', () => scenario({ express, broadcastMiddleware, createBroadcastRouter, createHealthHandler, closeBroadcast, startEmulator }));
