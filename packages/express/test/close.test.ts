import type { Emulator } from '@tim-broadcast/emulator';
import { broadcastMiddleware, closeBroadcast, createBroadcastRouter } from '../src/index';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../testing/promises';
import { bearer, call, emulator, EXPRESS_VERSIONS, findLeaks, recordingSuite, serve, TOKEN } from './helpers';

const { seen, logger, appOptions } = recordingSuite();

let emu: Emulator;
beforeAll(async () => {
  emu = await emulator(1000);
});
afterAll(() => emu?.close());

const options = (ratePerSecond = 50) => ({ ...appOptions(emu), rateLimit: { ratePerSecond } });

describe.each(EXPRESS_VERSIONS)('closeBroadcast on %s', (_name, express) => {
  it('finds the middleware on an app that never served a request', async () => {
    const app = express();
    const middleware = broadcastMiddleware(options());
    app.use(middleware);
    expect(await closeBroadcast(app)).toBe(1);
    expect(middleware.broadcaster.health().status).toBe('down');
    expect(await closeBroadcast(app)).toBe(1); // twice is fine
  });

  it('finds middlewares inside mounted Routers, and takes a middleware itself', async () => {
    const app = express();
    const api = express.Router();
    const inner = broadcastMiddleware(options());
    api.use(inner);
    app.use('/api', api);
    expect(await closeBroadcast(app)).toBe(1);
    expect(inner.broadcaster.health().status).toBe('down');

    const alone = broadcastMiddleware(options());
    expect(await closeBroadcast(alone)).toBe(1);
    expect(alone.broadcaster.health().status).toBe('down');
    expect(await closeBroadcast(express())).toBe(0);
  });

  it('drains queued broadcasts: every caller gets its answer, later callers get 503', async () => {
    const app = express();
    const middleware = broadcastMiddleware(options(2));
    app.use(middleware);
    app.use('/broadcasts', createBroadcastRouter({ bearerToken: TOKEN, logger }));
    const served = await serve(app);
    try {
      const before = emu.deliveries.length;
      const pending = Array.from({ length: 5 }, (_, i) => call(seen, `${served.url}/broadcasts`, { body: { text: `drain ${i}` }, headers: bearer() }));
      // at 2/s most of them are still waiting when the shutdown starts
      const { broadcaster } = middleware;
      const accounted = () => broadcaster.health().queued + broadcaster.health().inFlight + emu.deliveries.length - before;
      await until(() => accounted() === 5, 10_000, 'all five to be queued');
      const waiting = broadcaster.health().queued + broadcaster.health().inFlight;
      const closing = closeBroadcast(app);
      expect(waiting).toBeGreaterThanOrEqual(2);
      const late = await call(seen, `${served.url}/broadcasts`, { body: { text: 'too late' }, headers: bearer() });
      expect(late.status).toBe(503);
      expect(late.json).toMatchObject({ error: 'shutting_down' });

      const answers = await Promise.all(pending);
      await closing;
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      const delivered = new Set(emu.deliveries.map((d) => d.MsgSeq));
      for (const a of answers) expect(delivered.has(a.json.MsgSeq)).toBe(true);
    } finally {
      await served.close();
    }
  });
});

describe('secrets', () => {
  it('never show up in a response body or a log line', () => {
    expect(seen.userSigs.size).toBeGreaterThan(0);
    expect(findLeaks(seen)).toEqual([]);
  });
});
