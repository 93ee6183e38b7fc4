import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REDIS_URL } from '../../../testing/redis-server';

// The built package in real Node processes: decorators must survive tsdown, both formats must load, and neither
// entry may pull in @nestjs/terminus (the health indicator returns terminus's result shape without importing it, so
// an app without terminus can load every entry).
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const built = existsSync(`${pkgDir}/dist/index.cjs`) && existsSync(`${pkgDir}/dist/health/index.cjs`);

const probe = `
  const paramTokens = (cls) => (Reflect.getMetadata('self:paramtypes', cls) ?? []).sort((a, b) => a.index - b.index).map((p) => typeof p.param === 'symbol' ? p.param.description : p.param.name);
  const report = (main, health, loaded) => JSON.stringify({
    filterInjectable: Reflect.getMetadata('__injectable__', main.BroadcastExceptionFilter) === true,
    filterCatches: (Reflect.getMetadata('__filterCatchExceptions__', main.BroadcastExceptionFilter) ?? []).map((c) => c.name),
    filterParams: paramTokens(main.BroadcastExceptionFilter),
    indicatorInjectable: Reflect.getMetadata('__injectable__', health.BroadcastHealthIndicator) === true,
    indicatorParams: paramTokens(health.BroadcastHealthIndicator),
    terminusLoaded: loaded,
  });
`;

const cjs = `${probe}
  require('reflect-metadata');
  const main = require('@tim-broadcast/nestjs');
  const health = require('@tim-broadcast/nestjs/health');
  const loaded = Object.keys(require.cache).some((k) => k.includes('@nestjs/terminus') || k.includes('@nestjs+terminus'));
  console.log(report(main, health, loaded));
`;

const esm = `${probe}
  await import('reflect-metadata');
  const main = await import('@tim-broadcast/nestjs');
  const health = await import('@tim-broadcast/nestjs/health');
  console.log(report(main, health, null));
`;

const expected = {
  filterInjectable: true,
  filterCatches: ['TimBroadcastError'],
  filterParams: ['HttpAdapterHost'],
  indicatorInjectable: true,
  indicatorParams: ['BroadcastRegistry'],
};

describe.runIf(built)('built package (dist)', () => {
  it('CommonJS: decorator metadata survives the build; no entry loads terminus', async () => {
    const { stdout } = await run(process.execPath, ['-e', cjs], { cwd: pkgDir });
    expect(JSON.parse(stdout)).toEqual({ ...expected, terminusLoaded: false });
  });

  it('ESM: decorator metadata survives the build', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', esm], { cwd: pkgDir });
    expect(JSON.parse(stdout)).toEqual({ ...expected, terminusLoaded: null });
  });
});

it('the package has been built (run `pnpm build` first; the dist tests above need it)', () => {
  expect(built).toBe(true);
});

// The optional @tim-broadcast/outbox is loaded in the build's own format: a CommonJS app gets the outbox's CommonJS
// build and an ESM app its ESM build, so the errors it throws are the classes the app imports (instanceof holds).
// rate-limit loads it (this package's build loads rate-limit's build of the same format); in the workspace it resolves
// from rate-limit through the root's dependency on the outbox, as from a flat npm install.
const outboxProbe = (load: string, listLoaded: string) => `
  ${load}
  const { Module } = nest;
  const { BroadcastModule, BroadcastService } = main;
  const options = { sdkAppId: 1400000001, secretKey: 'dist-test-secret-0123456789', identifier: 'administrator', baseUrl: 'http://127.0.0.1:9',
    rateLimit: { ratePerSecond: 1 }, outbox: { redis: process.env.REDIS_URL, name: 'dist-' + process.pid, deliver: false, redisTimeoutMs: 15000 } };
  class AppModule {}
  Module({ imports: [BroadcastModule.forRoot(options)] })(AppModule);
  const app = await core.NestFactory.createApplicationContext(AppModule, { logger: false });
  const err = await app.get(BroadcastService).wait('no-such-id').catch((e) => e);
  await app.close();
  console.log(JSON.stringify({ name: err.name, sameClass: err instanceof outbox.OutboxNotFoundError, loaded: ${listLoaded} }));
`;

describe.runIf(built)('built package (dist) with the outbox', () => {
  const env = { ...process.env, REDIS_URL };

  it('CommonJS loads the CommonJS outbox', async () => {
    const script = outboxProbe(
      `require('reflect-metadata'); const nest = require('@nestjs/common'); const core = require('@nestjs/core'); const main = require('@tim-broadcast/nestjs'); const outbox = require('@tim-broadcast/outbox');`,
      `Object.keys(require.cache).filter((k) => /outbox[\\\\/]dist[\\\\/]index\\.[cm]js$/.test(k)).map((k) => k.split('.').pop())`,
    );
    const { stdout } = await run(process.execPath, ['-e', `(async () => { ${script} })()`], { cwd: pkgDir, env });
    expect(JSON.parse(stdout)).toEqual({ name: 'OutboxNotFoundError', sameClass: true, loaded: ['cjs'] });
  }, 60_000);

  it('ESM loads the ESM outbox', async () => {
    const script = outboxProbe(
      `await import('reflect-metadata'); const nest = await import('@nestjs/common'); const core = await import('@nestjs/core'); const main = await import('@tim-broadcast/nestjs'); const outbox = await import('@tim-broadcast/outbox');`,
      `null`,
    );
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: pkgDir, env });
    expect(JSON.parse(stdout)).toEqual({ name: 'OutboxNotFoundError', sameClass: true, loaded: null });
  }, 60_000);
});
