import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { REDIS_URL } from '../../../testing/redis-server';

const run = promisify(execFile);
const pkg = fileURLToPath(new URL('..', import.meta.url));

// a consumer's view of the built package: each format loads, and a router from it answers on Express 4 and 5
const script = (load: string, loadExpress: (name: string) => string) => `
${load}
const { createServer } = require('node:http');
(async () => {
  const out = { exports: Object.keys(lib).sort() };
  for (const name of ['express', 'express4']) {
    const express = ${loadExpress('name')};
    const app = express();
    app.use('/b', lib.createBroadcastRouter({ bearerToken: 'a-token-of-16-chars!' }));
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const res = await fetch('http://127.0.0.1:' + server.address().port + '/b', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    out[name] = [res.status, await res.json()];
    server.close();
  }
  console.log(JSON.stringify(out));
})();
`;

it('works from the built CJS and ESM files', async () => {
  expect(existsSync(`${pkg}/dist/index.cjs`), 'dist is missing: run `pnpm build` first').toBe(true);
  const cjs = await run(process.execPath, ['-e', script("const lib = require('@tim-broadcast/express');", (n) => `require(${n})`)], { cwd: pkg });
  const esm = await run(
    process.execPath,
    ['--input-type=module', '-e', `import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/'); const lib = await import('@tim-broadcast/express');` + script('', (n) => `require(${n})`)],
    { cwd: pkg },
  );
  const [fromCjs, fromEsm] = [JSON.parse(cjs.stdout), JSON.parse(esm.stdout)];
  expect(fromCjs.exports).toEqual(expect.arrayContaining(['broadcastMiddleware', 'closeBroadcast', 'createBroadcastRouter', 'createHealthHandler']));
  expect(fromEsm.exports).toEqual(fromCjs.exports.filter((name: string) => name !== 'default' && name !== '__esModule'));
  for (const result of [fromCjs, fromEsm]) {
    expect(result.express).toEqual([401, expect.objectContaining({ error: 'unauthorized' })]);
    expect(result.express4).toEqual([401, expect.objectContaining({ error: 'unauthorized' })]);
  }
});

// The optional @tim-broadcast/outbox is loaded in the build's own format: a CommonJS app gets the outbox's CommonJS
// build and an ESM app its ESM build, so the errors it throws are the classes the app imports (instanceof holds).
// rate-limit loads it (this package's build loads rate-limit's build of the same format); in the workspace it resolves
// from rate-limit through the root's dependency on the outbox, as from a flat npm install.
const outboxProbe = `
  const middleware = lib.broadcastMiddleware({ sdkAppId: 1400000001, secretKey: 'dist-test-secret-0123456789', identifier: 'administrator',
    baseUrl: 'http://127.0.0.1:9', outbox: { redis: process.env.REDIS_URL, name: 'dist-' + process.pid, deliver: false, redisTimeoutMs: 15000 } });
  await middleware.ready;
  const err = await middleware.apps.outbox('default').wait('no-such-id').catch((e) => e);
  await middleware.close();
  console.log(JSON.stringify({ name: err.name, sameClass: err instanceof outbox.OutboxNotFoundError }));
`;

it('loads the optional outbox in the format of the build that asks for it', async () => {
  const env = { ...process.env, REDIS_URL };
  const cjs = await run(process.execPath, ['-e', `const lib = require('@tim-broadcast/express'); const outbox = require('@tim-broadcast/outbox'); (async () => { ${outboxProbe} })();`], { cwd: pkg, env });
  const esm = await run(process.execPath, ['--input-type=module', '-e', `const lib = await import('@tim-broadcast/express'); const outbox = await import('@tim-broadcast/outbox'); ${outboxProbe}`], { cwd: pkg, env });
  expect(JSON.parse(cjs.stdout)).toEqual({ name: 'OutboxNotFoundError', sameClass: true });
  expect(JSON.parse(esm.stdout)).toEqual({ name: 'OutboxNotFoundError', sameClass: true });
}, 60_000);
