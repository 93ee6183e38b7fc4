import type { AddressInfo } from 'node:net';
import { startEmulator } from '@tim-broadcast/emulator';
import { broadcastMiddleware, closeBroadcast, createBroadcastRouter, createHealthHandler, text, type BroadcastMiddlewareOptions } from '@tim-broadcast/express';
import express, { type Request, type Response } from 'express';
import { assert, main } from './harness.js';

const app = { sdkAppId: 1400000005, secretKey: 'compat-express-secret', identifier: 'administrator' };
const token = 'compat-bearer-token-0123456789';

main('express', async () => {
  const emu = await startEmulator({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 100 });
  const options: BroadcastMiddlewareOptions = { ...app, baseUrl: emu.url, rateLimit: { ratePerSecond: 50 } };
  const web = express();
  web.use(broadcastMiddleware(options));
  web.use('/broadcasts', createBroadcastRouter({ bearerToken: token }));
  web.get('/health', createHealthHandler());
  // req.broadcast is typed through the package's augmentation of Express.Request
  web.post('/custom', async (req: Request, res: Response) => {
    const { MsgSeq } = await req.broadcast.send({ MsgBody: [text('compat custom route')] });
    res.json({ MsgSeq });
  });
  const server = await new Promise<ReturnType<typeof web.listen>>((resolve) => {
    const s = web.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}` }) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const delivered = (): number => emu.deliveries.length;
  try {
    const ok = await post('/broadcasts', { text: 'compat express' });
    const sent = (await ok.json()) as { MsgSeq: number };
    assert(ok.status === 200, JSON.stringify(sent));
    assert(delivered() === 1 && emu.deliveries[0]?.MsgSeq === sent.MsgSeq, 'not delivered');
    const anonymous = await post('/broadcasts', { text: 'nope' }, {});
    await anonymous.arrayBuffer();
    assert(anonymous.status === 401, `anonymous: ${anonymous.status}`);
    const invalid = await post('/broadcasts', { MsgBody: [] });
    const problem = await invalid.text();
    assert(invalid.status === 400 && problem.includes('MsgBody'), `invalid: ${invalid.status} ${problem}`);
    const custom = await post('/custom', {});
    assert(custom.status === 200, `custom route: ${custom.status} ${await custom.text()}`);
    assert(delivered() === 2, `deliveries ${delivered()}`);
    const health = await fetch(`${base}/health`);
    assert(health.status === 200, `health ${health.status}`);
    await health.arrayBuffer();
  } finally {
    const closed: number = await closeBroadcast(web);
    assert(closed === 1, 'closeBroadcast(app) found no broadcaster');
    await new Promise((resolve) => server.close(resolve));
    await emu.close();
  }
});
