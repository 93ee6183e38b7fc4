import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../../../testing/app-process';

// The built app, run as a user would run it (`pnpm build` first: the test runs dist, not the sources).
const main = fileURLToPath(new URL('../dist/main.mjs', import.meta.url));

let app: AppProcess | undefined;
afterAll(() => app?.kill());

it('runs as a process, and on SIGTERM answers every queued caller before exiting 0', async () => {
  expect(existsSync(main), `${main} is missing: run \`pnpm build\` first`).toBe(true);
  // a clean environment: no TIM_* credentials (emulator mode), no ADMIN_TOKEN (the app generates and prints one)
  app = startApp(main, { PATH: process.env.PATH, PORT: '0', BROADCAST_RATE_PER_SECOND: '2' });
  const [, token] = await app.waitFor(/ADMIN_TOKEN=(\S+)/);
  const [, url] = await app.waitFor(/listening on (http:\/\/\S+)/);
  expect(app.output()).toContain('in-process emulator');

  // 6 broadcasts at 2/s: the first goes at once, the others wait in the queue
  const settled: { status: number; body: any }[] = [];
  const calls = Array.from({ length: 6 }, async (_, i) => {
    const res = await fetch(`${url}/broadcasts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: `message ${i}` }),
    });
    const answer: { status: number; body: any } = { status: res.status, body: await res.json() };
    settled.push(answer);
    return answer;
  });

  // SIGTERM once all six are in the service and at least three are still waiting
  const waitDeadline = Date.now() + 10_000;
  for (;;) {
    const health = (await (await fetch(`${url}/health`)).json()) as { queued: number; inFlight: number };
    if (health.queued + health.inFlight + settled.length === 6 && health.queued + health.inFlight >= 3) break;
    if (Date.now() > waitDeadline) throw new Error(`the broadcasts were not queued: ${JSON.stringify(health)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const answeredBeforeSignal = settled.length;
  app.child.kill('SIGTERM');

  const answers = await Promise.all(calls);
  expect(await app.exited).toEqual({ code: 0, signal: null });
  expect(answeredBeforeSignal).toBeLessThanOrEqual(3);
  // every caller got an answer: delivered (200) or a JSON error (503 if the drain had run out of time)
  for (const answer of answers) {
    if (answer.status === 200) expect(answer.body).toEqual({ MsgSeq: expect.any(Number), Random: expect.any(Number) });
    else expect(answer).toMatchObject({ status: 503, body: { error: 'shutting_down' } });
  }
  // the default drain bound (10 s) is far above the ~3 s the queue needs, so all were delivered
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
  expect(new Set(answers.map((a) => a.body.MsgSeq)).size).toBe(6);
  expect(app.output()).toContain('SIGTERM received');
  expect(app.output()).toContain('stopped');
});
