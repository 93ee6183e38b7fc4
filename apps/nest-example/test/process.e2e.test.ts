import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Emulator } from '@tim-broadcast/emulator';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../../../testing/app-process';
import { deliveredTexts, emulatorEnv, inheritedEnv, post } from './helpers';

// The compiled CommonJS app (tsc) in a real Node process, loading the built @tim-broadcast/nestjs.
// NEST_EXAMPLE_MAIN lets another project run the same tests against a copy built with other Nest versions.
const appMain = process.env.NEST_EXAMPLE_MAIN ?? fileURLToPath(new URL('../dist/main.js', import.meta.url));
const expectedNestMajor = process.env.EXPECT_NEST_MAJOR ?? '11';

const apps: AppProcess[] = [];
let emu: Emulator | undefined;

afterEach(async () => {
  for (const app of apps.splice(0)) app.kill();
  await emu?.close();
  emu = undefined;
});

function run(env: Record<string, string>): AppProcess {
  const app = startApp(appMain, { ...inheritedEnv(), ...env });
  apps.push(app);
  return app;
}

const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;

describe.runIf(existsSync(appMain))('the compiled app as a real process', () => {
  it(`loads Nest ${expectedNestMajor} for the app and for @tim-broadcast/nestjs`, () => {
    const fromApp = createRequire(appMain);
    const fromLibrary = createRequire(fromApp.resolve('@tim-broadcast/nestjs'));
    const major = (req: NodeJS.Require, name: string) => (req(`${name}/package.json`) as { version: string }).version.split('.')[0];
    expect(fromApp.resolve('@tim-broadcast/nestjs')).toMatch(/index\.cjs$/); // the CommonJS build
    for (const name of ['@nestjs/common', '@nestjs/core']) {
      expect(major(fromApp, name)).toBe(expectedNestMajor);
      expect(major(fromLibrary, name)).toBe(expectedNestMajor);
    }
  });

  it('SIGTERM while announcements are queued: all are delivered and answered, then the process exits 0', async () => {
    const fixture = await emulatorEnv(1);
    emu = fixture.emu;
    const app = run({ ...fixture.env, TIM_RATE_PER_SECOND: '1' });
    const [, url] = await app.waitFor(LISTENING);

    // the first goes out at once; the next three then wait ~1 s for the limiter's next slot
    expect((await post(url!, { text: 'alpha' })).status).toBe(200);
    const texts = ['bravo', 'charlie', 'delta'];
    const requests = texts.map((text) => post(url!, { text }));
    const queued = async () => ((await (await fetch(`${url}/health`)).json()) as { details: { broadcast: { queued: number } } }).details.broadcast.queued;
    while ((await queued()) < texts.length) await new Promise((r) => setTimeout(r, 10));
    expect(deliveredTexts(emu)).toEqual(['alpha']);

    app.child.kill('SIGTERM');
    const responses = await Promise.all(requests);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(deliveredTexts(emu).sort()).toEqual(['alpha', ...texts].sort());
    expect(app.output()).toMatch(/draining \d+ broadcast\(s\) before shutdown/);
    expect(app.output()).not.toContain(fixture.env.TIM_SECRET_KEY);
  });

  it('without credentials it starts the emulator, says so, broadcasts, and exits 0 on SIGTERM', async () => {
    const app = run({});
    const [, emulatorUrl] = await app.waitFor(/no TIM_\* credentials: using the local emulator at (http:\/\/127\.0\.0\.1:\d+)/);
    const [, url] = await app.waitFor(LISTENING);

    const res = await post(url!, { text: 'hello emulator' });
    expect(res.status).toBe(200);
    const deliveries = (await (await fetch(`${emulatorUrl}/__emulator/deliveries`)).json()) as { deliveries: { MsgSeq: number }[] };
    expect(deliveries.deliveries.map((d) => d.MsgSeq)).toEqual([((await res.json()) as { MsgSeq: number }).MsgSeq]);

    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
  });

  it('bad configuration: exits 1 with a message naming the variable', async () => {
    const app = run({ TIM_SDKAPPID: '1400000002', TIM_SECRET_KEY: 'some-secret', TIM_REGION: 'atlantis' });
    expect(await app.exited).toEqual({ code: 1, signal: null });
    expect(app.output()).toMatch(/failed to start: .*TIM_REGION: /);
    expect(app.output()).not.toContain('some-secret');
  });
});

it('the example app has been built (run `pnpm build` first; the process tests above need it)', () => {
  expect(existsSync(appMain)).toBe(true);
});
