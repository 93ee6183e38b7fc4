import { fileURLToPath } from 'node:url';
import { ValidationError } from '@tim-broadcast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencyOf, tempProject, type TempProject } from '../../../testing/temp-project';
import { loadOptional } from '../src/optional';
import { REDIS_URL } from './helpers';

// openOutbox (the NestJS and Express packages' `outbox` option) loads @tim-broadcast/outbox through the loader its
// caller gives (written in the caller's own package, where the outbox is a peer), in the format of the build that runs: the built packages in projects of their own (as npm installs them),
// loaded by real Node processes, with the outbox installed and without it.
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const CORE = fileURLToPath(new URL('../../core', import.meta.url));
const OUTBOX = fileURLToPath(new URL('../../outbox', import.meta.url));
const links = {
  '@tim-broadcast/transport': dependencyOf(CORE, '@tim-broadcast/transport'),
  zod: dependencyOf(CORE, 'zod'),
  'tls-sig-api-v2': dependencyOf(CORE, 'tls-sig-api-v2'),
  ioredis: dependencyOf(PACKAGE, 'ioredis'),
};
const copy = { '@tim-broadcast/rate-limit': PACKAGE, '@tim-broadcast/core': CORE };

let withOutbox: TempProject;
let withoutOutbox: TempProject;
beforeAll(() => {
  withOutbox = tempProject('rate-limit-outbox', { copy: { ...copy, '@tim-broadcast/outbox': OUTBOX }, link: links });
  withoutOutbox = tempProject('rate-limit-no-outbox', { copy, link: links });
});
afterAll(() => {
  withOutbox?.remove();
  withoutOutbox?.remove();
});

// `loaded`: which builds of the outbox (cjs, mjs) the process holds, where it can tell (CommonJS)
const body = (loaded: string) => `
const client = core.createBroadcastClient({ sdkAppId: 1400000001, secretKey: 'dist-test-secret-0123456789', identifier: 'administrator', baseUrl: 'http://127.0.0.1:9' });
const context = { client, sdkAppId: 1400000001, logger: {}, timeoutMs: 5000, summary: 'invalid app options', path: ['outbox'], loadOutbox };
const given = { redis: process.env.REDIS_URL, name: 'dist-' + process.pid, deliver: false, redisTimeoutMs: 15000 };
const opened = rl.openOutbox(given, context).catch((e) => e);
opened.then(async (app) => {
  if (app instanceof Error) return console.log(JSON.stringify({ name: app.name, message: app.message, validation: app instanceof core.ValidationError }));
  const err = await app.outbox.wait('no-such-id').catch((e) => e);
  await app.close();
  await client.close();
  const outbox = await loadOutbox();
  console.log(JSON.stringify({ name: err.name, sameClass: err instanceof outbox.OutboxNotFoundError, sameCore: err instanceof core.TimBroadcastError, loaded: ${loaded} }));
});
`;
const scripts = {
  CommonJS: [
    'outbox.cjs',
    `const rl = require('@tim-broadcast/rate-limit'); const core = require('@tim-broadcast/core'); const loadOutbox = async () => require('@tim-broadcast/outbox');
${body(`Object.keys(require.cache).filter((k) => /outbox[\\\\/]dist[\\\\/]index\\.[cm]js$/.test(k)).map((k) => k.split('.').pop())`)}`,
  ],
  ESM: [
    'outbox.mjs',
    `import * as rl from '@tim-broadcast/rate-limit'; import * as core from '@tim-broadcast/core'; const loadOutbox = () => import('@tim-broadcast/outbox');
${body('null')}`,
  ],
} as const;

describe.each(Object.entries(scripts))('built openOutbox, %s', (format, [file, source]) => {
  it('loads the outbox build of its own format: its errors are the classes the app imports', async () => {
    const out = JSON.parse(await withOutbox.run(file, source, { REDIS_URL }));
    expect(out).toEqual({ name: 'OutboxNotFoundError', sameClass: true, sameCore: true, loaded: format === 'CommonJS' ? ['cjs'] : null });
  }, 60_000);

  it('without the outbox installed, fails with a ValidationError naming the install command', async () => {
    expect(JSON.parse(await withoutOutbox.run(file, source, { REDIS_URL }))).toEqual({
      name: 'ValidationError',
      validation: true,
      message: 'invalid app options: outbox: the outbox option needs the optional package @tim-broadcast/outbox: npm install @tim-broadcast/outbox',
    });
  });
});

it('loadOptional: a missing package names the feature and the install command', async () => {
  const err = await loadOptional('@tim-broadcast/no-such-package', { summary: 'invalid BroadcastModule options', path: ['outbox'], feature: 'the outbox option' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).message).toBe(
    'invalid BroadcastModule options: outbox: the outbox option needs the optional package @tim-broadcast/no-such-package: npm install @tim-broadcast/no-such-package',
  );
});
