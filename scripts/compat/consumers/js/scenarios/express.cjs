// An Express app with broadcastMiddleware and createBroadcastRouter (bearer token) on port 0: an authorized POST
// broadcasts to the emulator (200), a missing token is 401, a bad body is 400 naming the field, the health
// handler answers, and closeBroadcast(app) drains the broadcaster.
const assert = require('node:assert/strict');

const app = { sdkAppId: 1400000005, secretKey: 'compat-express-secret', identifier: 'administrator' };
const token = 'compat-bearer-token-0123456789';

module.exports = async function expressScenario({ express, broadcastMiddleware, createBroadcastRouter, createHealthHandler, closeBroadcast, startEmulator }) {
  const emu = await startEmulator({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 100 });
  const web = express();
  web.use(broadcastMiddleware({ ...app, baseUrl: emu.url, rateLimit: { ratePerSecond: 50 } }));
  web.use('/broadcasts', createBroadcastRouter({ bearerToken: token }));
  web.get('/health', createHealthHandler());
  const server = await new Promise((resolve, reject) => {
    const s = web.listen(0, '127.0.0.1', (error) => (error ? reject(error) : resolve(s)));
  });
  const base = `http://127.0.0.1:${server.address().port}`;
  const post = (body, headers = { authorization: `Bearer ${token}` }) =>
    fetch(`${base}/broadcasts`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  try {
    const ok = await post({ text: 'compat express' });
    const sent = await ok.json();
    assert.equal(ok.status, 200, JSON.stringify(sent));
    assert.equal(typeof sent.MsgSeq, 'number');
    assert.equal(emu.deliveries.length, 1);
    assert.equal(emu.deliveries[0].MsgSeq, sent.MsgSeq);

    const anonymous = await post({ text: 'nope' }, {});
    assert.equal(anonymous.status, 401);
    await anonymous.arrayBuffer();
    const invalid = await post({ MsgBody: [] });
    const problem = await invalid.text();
    assert.equal(invalid.status, 400, problem);
    assert.match(problem, /MsgBody/);
    assert.ok(!problem.includes(app.secretKey));
    assert.equal(emu.deliveries.length, 1, 'a rejected request reached the API');

    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, 'up');
  } finally {
    assert.equal(await closeBroadcast(web), 1, 'closeBroadcast(app) found no broadcaster');
    await new Promise((resolve) => server.close(resolve));
    await emu.close();
  }
};
