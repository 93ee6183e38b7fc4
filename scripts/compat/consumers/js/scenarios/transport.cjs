// Both transports POST to a local server and read the answer; a refused connection is a TransportError.
const assert = require('node:assert/strict');
const { startStub } = require('../harness.cjs');

module.exports = async function transportScenario({ fetchTransport, undiciTransport, TransportError }) {
  const stub = await startStub((req) => ({ json: { echo: JSON.parse(req.body), method: req.method } }));
  try {
    for (const transport of [fetchTransport(), undiciTransport({ proxy: false })]) {
      const res = await transport.send({ url: `${stub.url}/x?usersig=secret`, body: '{"n":1}', headers: { 'content-type': 'application/json' }, timeoutMs: 5000 });
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body), { echo: { n: 1 }, method: 'POST' });
      await transport.close();
    }
  } finally {
    await stub.close();
  }
  const transport = undiciTransport({ proxy: false });
  await assert.rejects(transport.send({ url: `${stub.url}/gone?usersig=secret`, body: '{}', timeoutMs: 5000 }), (error) => {
    assert.ok(error instanceof TransportError, `expected a TransportError, got ${error && error.name}`);
    assert.ok(!String(error.message).includes('secret'), 'the query string leaked into the error');
    return true;
  });
  await transport.close();
};
