import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

// The built app, run as a user would run it (`pnpm build` first: the test runs dist, not the sources).
const main = fileURLToPath(new URL('../dist/main.mjs', import.meta.url));

let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

it('runs as a process, and on SIGTERM answers every queued caller before exiting 0', async () => {
  expect(existsSync(main), `${main} is missing: run \`pnpm build\` first`).toBe(true);
  // a clean environment: no TIM_* credentials (emulator mode), no ADMIN_TOKEN (the app generates and prints one)
  child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH, PORT: '0', BROADCAST_RATE_PER_SECOND: '2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = child;
  let output = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  const deadline = Date.now() + 15_000;
  while (!/ADMIN_TOKEN=\S+/.test(output) || !/listening on http:\/\/\S+/.test(output)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`the app did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
  const token = /ADMIN_TOKEN=(\S+)/.exec(output)![1]!;
  expect(output).toContain('in-process emulator');

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
  proc.kill('SIGTERM');

  const answers = await Promise.all(calls);
  expect(await exited).toBe(0);
  expect(answeredBeforeSignal).toBeLessThanOrEqual(3);
  // every caller got an answer: delivered (200) or a JSON error (503 if the drain had run out of time)
  for (const answer of answers) {
    if (answer.status === 200) expect(answer.body).toEqual({ MsgSeq: expect.any(Number), Random: expect.any(Number) });
    else expect(answer).toMatchObject({ status: 503, body: { error: 'shutting_down' } });
  }
  // the default drain bound (10 s) is far above the ~3 s the queue needs, so all were delivered
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
  expect(new Set(answers.map((a) => a.body.MsgSeq)).size).toBe(6);
  expect(output).toContain('SIGTERM received');
  expect(output).toContain('stopped');
});
