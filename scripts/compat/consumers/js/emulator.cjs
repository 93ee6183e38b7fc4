const { main } = require('./harness.cjs');
const { startEmulator } = require('@tim-broadcast/emulator');
const { createBroadcastClient, text, ApiError, ValidationError } = require('@tim-broadcast/core');
const scenario = require('./scenarios/emulator.cjs');

main('emulator', () => scenario({ startEmulator, createBroadcastClient, text, ApiError, ValidationError }));
