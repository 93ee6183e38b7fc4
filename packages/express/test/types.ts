// Compiled by `pnpm typecheck`, never run: the package's handlers must fit Express 4's and 5's types as they are,
// and `req.broadcast` must be typed through the global Express namespace.
import { text } from '@tim-broadcast/core';
import { broadcastMiddleware, closeBroadcast, createBroadcastRouter, createHealthHandler, type Broadcaster } from '../src/index';
import express5, { type Request as Request5 } from 'express';
import express4, { type Request as Request4 } from 'express4';

const options = { sdkAppId: 1400000000, secretKey: 'k', identifier: 'administrator', region: 'singapore' } as const;

export function onExpress5() {
  const app = express5();
  app.use(broadcastMiddleware(options));
  app.use('/broadcasts', createBroadcastRouter({ bearerToken: 'a-token-of-16-chars' }));
  app.use('/by-role', createBroadcastRouter({ authorize: (req: Request5) => req.get('x-role') === 'admin' }));
  app.post('/route', createBroadcastRouter({ authorize: async (req) => (req.headers.authorization ? true : 'unauthenticated') }));
  app.get('/health', createHealthHandler());
  app.post('/custom', async (req, res) => {
    const broadcaster: Broadcaster = req.broadcast;
    const { MsgSeq } = await broadcaster.send({ MsgBody: [text('hi')] });
    res.json({ MsgSeq });
  });
  return closeBroadcast(app);
}

export function onExpress4() {
  const app = express4();
  app.use(broadcastMiddleware(options));
  app.use('/broadcasts', createBroadcastRouter({ bearerToken: 'a-token-of-16-chars' }));
  app.use('/by-role', createBroadcastRouter({ authorize: (req: Request4) => req.get('x-role') === 'admin' }));
  app.post('/route', createBroadcastRouter({ allowUnauthenticated: true }));
  app.get('/health', createHealthHandler());
  app.post('/custom', (req, res, next) => {
    req.broadcast.send({ MsgBody: [text('hi')] }).then(({ MsgSeq }) => res.json({ MsgSeq }), next);
  });
  const router = express4.Router();
  router.use(broadcastMiddleware(options));
  return closeBroadcast(router);
}

const app = { sdkAppId: 1400000000, secretKey: 'k', identifier: 'administrator' };

export function regionOrBaseUrl() {
  broadcastMiddleware({ ...app, region: 'singapore' });
  broadcastMiddleware({ ...app, baseUrl: 'http://127.0.0.1:8080' });
  // @ts-expect-error neither region nor baseUrl
  broadcastMiddleware({ ...app });
  // @ts-expect-error both region and baseUrl
  broadcastMiddleware({ ...app, region: 'singapore', baseUrl: 'http://127.0.0.1:8080' });
  // @ts-expect-error an app with both region and baseUrl
  broadcastMiddleware({
    apps: {
      eu: { ...app, region: 'frankfurt' },
      us: { ...app, sdkAppId: 1400000001, region: 'silicon-valley', baseUrl: 'http://127.0.0.1:8080' },
    },
  });
}

export function severalApps() {
  const app5 = express5();
  const middleware = broadcastMiddleware({
    apps: { eu: { ...app, region: 'frankfurt' }, us: { ...app, sdkAppId: 1400000001, region: 'silicon-valley' } },
    defaultApp: 'eu',
  });
  const maybe: Broadcaster | undefined = middleware.broadcaster;
  app5.use(middleware);
  app5.use('/broadcasts/:app', createBroadcastRouter({ bearerToken: 'a-token-of-16-chars', app: (req: Request5) => String(req.params.app) }));
  app5.post('/eu', async (req, res) => {
    const { MsgSeq } = await req.broadcasts.get('eu').send({ MsgBody: [text('hi')] });
    res.json({ MsgSeq, apps: req.broadcasts.names });
  });
  return maybe;
}
