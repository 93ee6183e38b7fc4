import { readFileSync } from 'node:fs';
import { parseBroadcastRequest, messageBytes, signUserSig, verifyUserSig } from '@tim-broadcast/core';

const samples = JSON.parse(readFileSync(new URL('../spec/fixtures/broadcast-samples.json', import.meta.url), 'utf8'));
const creds = { sdkAppId: 1400000000, secretKey: 'demo-secret-key', identifier: 'administrator' };
const sig = signUserSig(creds);
console.log('UserSig signed (%d chars), verifies:', sig.length, verifyUserSig(sig, creds));
const request = parseBroadcastRequest(samples.request);
console.log('sample request valid, %d bytes of MsgBody', messageBytes(request.MsgBody));
