// The client and undici transport as they were before issue 18 ("before" in bench/client.bench.mjs), rebuilt at
// bench time from git rather than kept as a copy: packages/core/src and packages/transport/src at BEFORE_CLIENT_REF,
// bundled together into bench/.before-client/ (gitignored), so the old core runs on the old transport.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BEFORE_CLIENT_REF = '4309577';
const root = fileURLToPath(new URL('..', import.meta.url));
const out = fileURLToPath(new URL('./.before-client/', import.meta.url));

/** Builds (once per ref) and imports { createBroadcastClient, undiciTransport } of BEFORE_CLIENT_REF. */
export async function loadBeforeClient() {
  const module = join(out, 'dist/before-client.mjs');
  const stamp = join(out, 'ref');
  if (!(existsSync(module) && existsSync(stamp) && readFileSync(stamp, 'utf8') === BEFORE_CLIENT_REF)) {
    rmSync(out, { recursive: true, force: true });
    const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
    for (const dir of ['packages/core/src', 'packages/transport/src']) {
      for (const file of git('ls-tree', '-r', '--name-only', BEFORE_CLIENT_REF, dir).split('\n')) {
        if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
        const target = join(out, file.replace('packages/', ''));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, git('show', `${BEFORE_CLIENT_REF}:${file}`));
      }
    }
    writeFileSync(
      join(out, 'before-client.ts'),
      "export { createBroadcastClient } from './core/src/index';\nexport { undiciTransport } from './transport/src/undici';\n",
    );
    const { build } = await import('tsdown');
    await build({
      cwd: out,
      entry: ['before-client.ts'],
      format: ['esm'],
      platform: 'node',
      target: 'node20',
      dts: false,
      outDir: 'dist',
      logLevel: 'warn',
      config: false,
      // the old core on the old transport; zod from core's own dependencies; undici and tls-sig-api-v2 from the root
      alias: { '@tim-broadcast/transport': join(out, 'transport/src/index.ts'), zod: join(root, 'packages/core/node_modules/zod') },
      deps: { alwaysBundle: [/^zod/, /^@tim-broadcast\/transport/], neverBundle: ['undici', 'tls-sig-api-v2'] },
    });
    writeFileSync(stamp, BEFORE_CLIENT_REF);
  }
  return import(module);
}
