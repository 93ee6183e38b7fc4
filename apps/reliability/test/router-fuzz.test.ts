// Property tests on the Express router over real HTTP: whatever body arrives, the answer is a JSON 200 or a typed
// 4xx, the server never crashes, and nothing invalid reaches the (emulated) API.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import samples from '../../../spec/fixtures/broadcast-samples.json';
import { startEmulator, type Emulator } from '@tim-broadcast/emulator';
import { broadcastMiddleware, closeBroadcast, createBroadcastRouter, toBroadcastRequest } from '@tim-broadcast/express';
import { recordOutput } from '../../../testing/secret-scan.setup';

const APP = { sdkAppId: 1400000098, secretKey: 'fuzz-router-secret-0123456789', admin: 'administrator' };
const TOKEN = 'fuzz-token-0123456789abcdef';

let emu: Emulator;
let server: Server;
let url: string;
const app = express();
beforeAll(async () => {
  emu = await startEmulator({ ...APP, ratePerSecond: Infinity });
  const logger = { debug: recordOutput, info: recordOutput, warn: recordOutput, error: recordOutput };
  app.use(broadcastMiddleware({ sdkAppId: APP.sdkAppId, secretKey: APP.secretKey, identifier: APP.admin, baseUrl: emu.url, rateLimit: false, logger }));
  app.use('/broadcasts', createBroadcastRouter({ bearerToken: TOKEN, logger }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/broadcasts`;
});
afterAll(async () => {
  await closeBroadcast(app);
  await new Promise((r) => server.close(r));
  await emu.close();
});

const documented = Object.values(samples.elements);
const bodyLike = fc.oneof(
  fc.jsonValue(),
  fc.record({ text: fc.oneof(fc.string(), fc.jsonValue()), from: fc.oneof(fc.string(), fc.jsonValue()) }, { requiredKeys: [] }),
  fc.record(
    {
      MsgBody: fc.oneof(fc.array(fc.oneof(fc.constantFrom(...documented), fc.jsonValue()), { maxLength: 4 }), fc.jsonValue()),
      Random: fc.oneof(fc.integer({ min: -1, max: 2 ** 32 }), fc.jsonValue()),
      CloudCustomData: fc.oneof(fc.string(), fc.jsonValue()),
    },
    { requiredKeys: [] },
  ),
);

async function post(raw: string) {
  const res = await fetch(url, { method: 'POST', body: raw, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
  const text = await res.text();
  recordOutput(text);
  return { status: res.status, json: JSON.parse(text) };
}

function isValid(body: unknown): boolean {
  try {
    toBroadcastRequest(body);
    return true;
  } catch {
    return false;
  }
}

describe('the broadcast router under arbitrary bodies', () => {
  it('answers 200 for valid bodies and a typed 400 for everything else; invalid ones never reach the API', async () => {
    await fc.assert(
      fc.asyncProperty(bodyLike, async (body) => {
        const before = emu.stats.requests;
        const { status, json } = await post(JSON.stringify(body));
        if (isValid(body)) {
          expect(status).toBe(200);
          expect(json).toEqual({ MsgSeq: expect.any(Number), Random: expect.any(Number) });
          expect(emu.stats.requests).toBe(before + 1);
        } else {
          expect(status).toBe(400);
          expect(json.error).toBe('invalid_request');
          expect(json.issues.length).toBeGreaterThan(0);
          for (const issue of json.issues) expect(typeof issue.path).toBe('string');
          expect(emu.stats.requests).toBe(before);
        }
      }),
      { numRuns: 250 },
    );
  });

  it('answers a JSON 400 for any text that is not JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1 }), async (raw) => {
        fc.pre(!isJson(raw));
        const before = emu.stats.requests;
        const { status, json } = await post(raw);
        expect(status).toBe(400);
        expect(typeof json.error).toBe('string');
        expect(emu.stats.requests).toBe(before);
      }),
      { numRuns: 150 },
    );
  });
});

function isJson(raw: string): boolean {
  try {
    JSON.parse(raw);
    return true;
  } catch {
    return false;
  }
}
