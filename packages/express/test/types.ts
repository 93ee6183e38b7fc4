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
