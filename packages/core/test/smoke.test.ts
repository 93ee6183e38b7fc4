import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Real Node processes load the BUILT package by name, as a user's app would (run `pnpm build` first).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const built = existsSync(new URL('../dist/index.cjs', import.meta.url)) && existsSync(new URL('../dist/index.mjs', import.meta.url));

const script = (load: string) => `
${load}
const creds = { sdkAppId: 1400000000, secretKey: 'k', identifier: 'admin' };
const sig = core.signUserSig(creds);
const check = core.verifyUserSig(sig, creds);
const req = core.parseBroadcastRequest({ MsgBody: [core.text('hi'), core.custom('x')] });
let invalid;
try { core.parseBroadcastRequest({ MsgBody: [] }); } catch (e) { invalid = e instanceof core.ValidationError && e.issues[0].path.join('.'); }
console.log(JSON.stringify({ valid: check.valid, elements: req.MsgBody.length, invalid, client: typeof core.createBroadcastClient, err: new core.TransportError('x') instanceof Error, oneValidationError: core.ValidationError === transport.ValidationError }));
`;

// without a build the suite must fail, not skip silently
it('the package has been built (run `pnpm build` first; the smoke tests below need it)', () => {
  expect(built).toBe(true);
});

describe.runIf(built)('built @tim-broadcast/core', () => {
  it.each([
    ['CommonJS require', ['-e', script("const core = require('@tim-broadcast/core'); const transport = require('@tim-broadcast/transport');")]],
    ['ESM import', ['--input-type=module', '-e', script("import * as core from '@tim-broadcast/core'; import * as transport from '@tim-broadcast/transport';")]],
  ])('loads with %s', (_name, args) => {
    const out = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ valid: true, elements: 2, invalid: 'MsgBody', client: 'function', err: true, oneValidationError: true });
  });
});
