import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The built package in real Node processes: decorators must survive tsdown, both formats must load,
// and the main entry must not pull in @nestjs/terminus.
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const built = existsSync(`${pkgDir}/dist/index.cjs`) && existsSync(`${pkgDir}/dist/health/index.cjs`);

const probe = `
  const paramTokens = (cls) => (Reflect.getMetadata('self:paramtypes', cls) ?? []).sort((a, b) => a.index - b.index).map((p) => typeof p.param === 'symbol' ? p.param.description : p.param.name);
  const report = (main, health, loaded) => JSON.stringify({
    injectable: Reflect.getMetadata('__injectable__', main.BroadcastService) === true,
    serviceParams: paramTokens(main.BroadcastService),
    indicatorInjectable: Reflect.getMetadata('__injectable__', health.BroadcastHealthIndicator) === true,
    indicatorParams: paramTokens(health.BroadcastHealthIndicator),
    terminusLoadedByMain: loaded,
  });
`;

const cjs = `${probe}
  require('reflect-metadata');
  const main = require('@tim-broadcast/nestjs');
  const loaded = Object.keys(require.cache).some((k) => k.includes('@nestjs/terminus') || k.includes('@nestjs+terminus'));
  console.log(report(main, require('@tim-broadcast/nestjs/health'), loaded));
`;

const esm = `${probe}
  await import('reflect-metadata');
  const main = await import('@tim-broadcast/nestjs');
  const health = await import('@tim-broadcast/nestjs/health');
  console.log(report(main, health, null));
`;

const expected = {
  injectable: true,
  serviceParams: ['@tim-broadcast/nestjs:broadcaster', '@tim-broadcast/nestjs:client'],
  indicatorInjectable: true,
  indicatorParams: ['HealthIndicatorService', '@tim-broadcast/nestjs:broadcaster'],
};

describe.runIf(built)('built package (dist)', () => {
  it('CommonJS: decorator metadata survives the build; the main entry does not load terminus', async () => {
    const { stdout } = await run(process.execPath, ['-e', cjs], { cwd: pkgDir });
    expect(JSON.parse(stdout)).toEqual({ ...expected, terminusLoadedByMain: false });
  });

  it('ESM: decorator metadata survives the build', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', esm], { cwd: pkgDir });
    expect(JSON.parse(stdout)).toEqual({ ...expected, terminusLoadedByMain: null });
  });
});

it('the package has been built (run `pnpm build` first; the dist tests above need it)', () => {
  expect(built).toBe(true);
});
