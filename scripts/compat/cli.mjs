// The CLI as a user runs it without installing anything: `npx --package <tarball> tim-broadcast …` from the packed
// tarballs (its @tim-broadcast dependencies are given as tarballs too, since they are not on the registry yet; the
// rest comes from the registry). npx installs into an npm cache inside the matrix's temp folder, once; then each
// Node major runs regions, usersig sign and verify, the emulator command, and send (one, and a file on stdin)
// against that emulator.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { cleanEnv } from './consumers.mjs';
import { expectOk, run, tail } from './proc.mjs';

const APP = { sdkAppId: '1400000003', secretKey: 'compat-cli-secret-2b8e41' };

/** The environment of every npx call: a private npm cache, `node` of the wanted major first on PATH. */
function npxEnv(dir, node, extra = {}) {
  const PATH = [dirname(node), process.env.PATH].join(delimiter);
  return cleanEnv({ PATH, npm_config_cache: join(dir, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_prefer_offline: 'true', ...extra });
}

const npxArgs = (tarballs, args) => ['-y', ...tarballs.flatMap((t) => ['--package', t]), 'tim-broadcast', ...args];

function npx(ctx, args, { env = {}, input, timeoutMs = 120_000 } = {}) {
  if (input === undefined) return run('npx', npxArgs(ctx.tarballs, args), { cwd: ctx.dir, env: npxEnv(ctx.dir, ctx.node, env), timeoutMs, kind: 'npx' });
  // run() gives the child no stdin; this one needs it
  return new Promise((resolve) => {
    const child = spawn('npx', npxArgs(ctx.tarballs, args), { cwd: ctx.dir, env: npxEnv(ctx.dir, ctx.node, env), stdio: ['pipe', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (d) => (out.stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out.stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ...out, timedOut: false });
    });
    child.stdin.end(input);
  });
}

/** Installs the CLI through npx once (the registry's packages land in the private cache). */
export async function npxInstall({ dir, tarballs, version }) {
  mkdirSync(dir, { recursive: true });
  const result = expectOk(await npx({ dir, tarballs, node: process.execPath }, ['--version'], { timeoutMs: 300_000 }), 'npx tim-broadcast --version');
  if (result.stdout.trim() !== version) throw new Error(`npx tim-broadcast --version printed ${JSON.stringify(result.stdout.trim())}, expected ${version}`);
  return `tim-broadcast ${version}`;
}

/** One Node major: every command of the CLI from the tarball. */
export async function npxCliCell({ dir, tarballs, node, major }) {
  const ctx = { dir, tarballs, node };
  const regions = expectOk(await npx(ctx, ['regions', '--json']), 'tim-broadcast regions --json');
  const parsed = JSON.parse(regions.stdout);
  if (!parsed.singapore?.primary?.startsWith('https://')) throw new Error(`regions --json printed ${regions.stdout.slice(0, 200)}`);

  const secretEnv = { TIM_SDKAPPID: APP.sdkAppId, TIM_SECRET_KEY: APP.secretKey };
  const sig = expectOk(await npx(ctx, ['usersig', '--expire', '600'], { env: secretEnv }), 'tim-broadcast usersig').stdout.trim();
  const verified = expectOk(await npx(ctx, ['usersig', 'verify', sig], { env: secretEnv }), 'tim-broadcast usersig verify');
  if (!verified.stdout.startsWith('valid: ')) throw new Error(`usersig verify printed ${verified.stdout.slice(0, 200)}`);

  // the emulator command, in its own process group so all of npx's processes stop together
  const emulator = spawn('npx', npxArgs(tarballs, ['emulator', '--port', '0', '--sdkappid', APP.sdkAppId, '--secret', APP.secretKey, '--rate', '20', '--quiet']), {
    cwd: dir,
    env: npxEnv(dir, node),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let banner = '';
  emulator.stdout.setEncoding('utf8').on('data', (d) => (banner += d));
  emulator.stderr.setEncoding('utf8').on('data', (d) => (banner += d));
  const closed = new Promise((resolve) => emulator.on('close', resolve));
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the emulator printed no URL within 60 s\n${banner.slice(-800)}`)), 60_000);
      const look = () => {
        const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1];
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      };
      emulator.stdout.on('data', look);
      emulator.on('close', (code) => reject(new Error(`the emulator exited (${code}) before listening\n${banner.slice(-800)}`)));
    });
    const appEnv = { ...secretEnv, TIM_BASE_URL: url };
    const one = expectOk(await npx(ctx, ['send', `compat hello from node ${major}`, '--json'], { env: appEnv }), 'tim-broadcast send --json');
    const { MsgSeq } = JSON.parse(one.stdout);
    const file = `${JSON.stringify({ text: 'line one' })}\n${JSON.stringify({ text: 'line two' })}\n`;
    const many = expectOk(await npx(ctx, ['send', '--file', '-', '--json', '--rate', '20'], { env: appEnv, input: file }), 'tim-broadcast send --file - --json');
    const results = many.stdout.trim().split('\n').map((l) => JSON.parse(l));
    if (results.length !== 2 || results.some((r) => r.status !== 'sent' || r.batchSize !== 2)) throw new Error(`send --file printed ${many.stdout}`);
    const bad = await npx(ctx, ['send', '--file', '-'], { env: appEnv, input: '{"txt":"typo"}\n' });
    if (bad.code !== 2 || !bad.stderr.includes('line 1: txt')) throw new Error(`a bad file: exit ${bad.code}\n${tail(bad)}`);

    const { deliveries } = await (await fetch(`${url}/__emulator/deliveries`)).json();
    const texts = deliveries.map((d) => d.body.MsgBody.map((e) => e.MsgContent.Text).join(' + '));
    const want = [`compat hello from node ${major}`, 'line one + line two'];
    if (JSON.stringify(texts) !== JSON.stringify(want) || deliveries[0].MsgSeq !== MsgSeq) {
      throw new Error(`emulator deliveries ${JSON.stringify(texts)}, expected ${JSON.stringify(want)}`);
    }
    for (const output of [one.stdout, one.stderr, many.stdout, many.stderr, bad.stderr]) {
      if (output.includes(APP.secretKey) || output.includes(sig)) throw new Error('the secret key or a UserSig was printed');
    }
    return 'regions, usersig, usersig verify, emulator, send, send --file - (and a bad file: exit 2)';
  } finally {
    try {
      process.kill(-emulator.pid, 'SIGINT');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-emulator.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 10_000);
    await closed;
    clearTimeout(timer);
  }
}
