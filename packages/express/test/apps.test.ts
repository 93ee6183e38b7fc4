import type { Emulator } from '@tim-broadcast/emulator';
import type { Request } from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { broadcastMiddleware, closeBroadcast, createBroadcastRouter, createHealthHandler, text, type BroadcastMiddlewareOptions } from '../src/index';
import { deliveredTexts } from '../../../testing/deliveries';
import { until } from '../../../testing/promises';
import { bearer, call, emulator, EXPRESS_VERSIONS, findLeaks, recordingSuite, serve, TOKEN, type Served } from './helpers';

// Two Tencent Cloud Chat apps (two SDKAppIDs, two secrets, two emulators) behind one middleware.
const EU = { sdkAppId: 1400000031, secretKey: 'express-apps-eu-secret-1a2b3c4d5e6f' };
const US = { sdkAppId: 1400000032, secretKey: 'express-apps-us-secret-6f5e4d3c2b1a' };

const { seen, logger, appOptions: recordedOptions } = recordingSuite();

let eu: Emulator;
let us: Emulator;
beforeEach(async () => {
  [eu, us] = await Promise.all([
    emulator(100, EU),
    emulator(100, US),
  ]);
});
afterEach(async () => {
  await Promise.all([eu.close(), us.close()]);
});

const appOptions = (app: typeof EU, emu: Emulator, ratePerSecond = 50): BroadcastMiddlewareOptions => ({ ...recordedOptions(emu, app), rateLimit: { ratePerSecond } });

describe.each(EXPRESS_VERSIONS)('several apps on %s', (_name, express) => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  function build(defaultApp?: 'eu', rates: [number, number] = [50, 50]) {
    const app = express();
    const middleware = broadcastMiddleware({ apps: { eu: appOptions(EU, eu, rates[0]), us: appOptions(US, us, rates[1]) }, ...(defaultApp ? { defaultApp } : {}) });
    app.use(middleware);
    app.use('/broadcasts/:app', createBroadcastRouter({ bearerToken: TOKEN, logger, app: (req: Request) => String(req.params.app) }));
    app.use('/us-only', createBroadcastRouter({ bearerToken: TOKEN, logger, app: 'us' }));
    app.use('/default', createBroadcastRouter({ bearerToken: TOKEN, logger }));
    app.post('/custom/:app', express.json(), (req, res, next) => {
      req.broadcasts
        .get(String(req.params.app))
        .send({ MsgBody: [text(String((req.body as { text: string }).text))] })
        .then(({ MsgSeq }) => res.json({ MsgSeq, apps: req.broadcasts.names, default: req.broadcast === undefined ? null : req.broadcast.client.sdkAppId }), next);
    });
    app.get('/health', createHealthHandler());
    app.get('/health/us', createHealthHandler({ app: 'us' }));
    return { app, middleware };
  }

  const post = (path: string, body: unknown, headers: Record<string, string> = bearer()) => call(seen, `${served!.url}${path}`, { body, headers });

  it('a router param picks the app; each broadcast reaches its own app only', async () => {
    const { app } = build();
    served = await serve(app);
    expect((await post('/broadcasts/eu', { text: 'to eu' })).status).toBe(200);
    expect((await post('/broadcasts/us', { text: 'to us' })).status).toBe(200);
    expect((await post('/us-only', { text: 'us again' })).status).toBe(200);
    expect(deliveredTexts(eu)).toEqual(['to eu']);
    expect(deliveredTexts(us)).toEqual(['to us', 'us again']);
    await closeBroadcast(app);
  });

  it('an app that is not configured: 401 without credentials, then 404 unknown_app', async () => {
    const { app } = build();
    served = await serve(app);
    expect((await post('/broadcasts/mars', { text: 'x' }, {})).status).toBe(401);
    const unknown = await post('/broadcasts/mars', { text: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: 'unknown_app', message: 'no broadcast app named "mars"' });
    // no default app: a router that names none cannot choose
    const unnamed = await post('/default', { text: 'x' });
    expect(unnamed.status).toBe(404);
    expect(unnamed.json).toEqual({ error: 'unknown_app', message: 'name the app to broadcast with (one of eu, us)' });
    expect(eu.deliveries.length + us.deliveries.length).toBe(0);
    await closeBroadcast(app);
  });

  it('defaultApp: req.broadcast and routers that name no app use it; req.broadcasts.get(name) reaches the others', async () => {
    const { app } = build('eu');
    served = await serve(app);
    expect((await post('/default', { text: 'default is eu' })).status).toBe(200);
    const custom = await post('/custom/us', { text: 'from my own route' });
    expect(custom.json).toMatchObject({ apps: ['eu', 'us'], default: EU.sdkAppId });
    expect(deliveredTexts(eu)).toEqual(['default is eu']);
    expect(deliveredTexts(us)).toEqual(['from my own route']);
    await closeBroadcast(app);
  });

  it('health: every app, or the one named; 503 when any is down', async () => {
    const { app, middleware } = build();
    served = await serve(app);
    const all = await call(seen, `${served.url}/health`, { method: 'GET' });
    expect(all.status).toBe(200);
    expect(all.json).toMatchObject({ status: 'up', apps: { eu: { status: 'up', limiter: { store: 'memory' } }, us: { status: 'up' } } });
    await middleware.apps.get('us').close();
    const down = await call(seen, `${served.url}/health`, { method: 'GET' });
    expect(down.status).toBe(503);
    expect(down.json).toMatchObject({ status: 'down', apps: { eu: { status: 'up' }, us: { status: 'down' } } });
    expect((await call(seen, `${served.url}/health/us`, { method: 'GET' })).json).toMatchObject({ status: 'down', queued: 0 });
    await closeBroadcast(app);
  });

  it('each app keeps its own limit, and closeBroadcast drains every app before it resolves', async () => {
    const { app, middleware } = build(undefined, [2, 2]);
    served = await serve(app);
    const pending = ['eu', 'us'].flatMap((name) => [1, 2, 3].map((i) => post(`/broadcasts/${name}`, { text: `${name} ${i}` })));
    const [euB, usB] = [middleware.apps.get('eu'), middleware.apps.get('us')];
    await until(() => [euB, usB].every((b) => b.health().queued + b.health().inFlight + (b === euB ? eu : us).deliveries.length === 3), 10_000, 'all six to be accepted');
    expect(euB.limiter!.ratePerSecond).toBe(2);
    expect([euB, usB].map((b) => b.health().queued + b.health().inFlight).every((n) => n > 0)).toBe(true);
    expect(await closeBroadcast(app)).toBe(1);
    // at 2 calls/s each, the last ones were still waiting when closing began: both queues were drained before it resolved
    expect(deliveredTexts(eu)).toEqual(['eu 1', 'eu 2', 'eu 3']);
    expect(deliveredTexts(us)).toEqual(['us 1', 'us 2', 'us 3']);
    expect((await Promise.all(pending)).map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
  });
});

describe('secrets', () => {
  it('never show up in a response body or a log line', () => {
    expect(seen.userSigs.size).toBeGreaterThan(0);
    expect(findLeaks(seen, EU.secretKey)).toEqual([]);
    expect(findLeaks(seen, US.secretKey)).toEqual([]);
  });
});
