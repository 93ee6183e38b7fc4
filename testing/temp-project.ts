/**
 * A throwaway Node project for smoke tests of the BUILT packages (run `pnpm build` first): some packages copied in
 * (package.json and dist, so nothing resolves through the workspace from them), others linked, and scripts run by
 * real Node processes without the NODE_PATH the tool runner sets. Used to load a build with and without an optional
 * peer dependency installed.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface TempProject {
  dir: string;
  /** Writes `source` to `file` in the project and runs it (asynchronously: a server of the test keeps serving); resolves with its stdout, trimmed. */
  run(file: string, source: string, env?: Record<string, string>): Promise<string>;
  remove(): void;
}

/**
 * `copy`: package name → its directory in the workspace (must be built). `link`: package name → a directory to
 * link as that package (its own dependencies then resolve from where it really is).
 */
export function tempProject(prefix: string, setup: { copy?: Record<string, string>; link?: Record<string, string> }): TempProject {
  const dir = mkdtempSync(join(tmpdir(), `tim-broadcast-${prefix}-`));
  for (const [name, from] of Object.entries(setup.copy ?? {})) {
    if (!existsSync(join(from, 'dist'))) throw new Error(`${from}/dist is missing: build first (pnpm build)`);
    const target = join(dir, 'node_modules', name);
    mkdirSync(target, { recursive: true });
    cpSync(join(from, 'package.json'), join(target, 'package.json'));
    cpSync(join(from, 'dist'), join(target, 'dist'), { recursive: true });
  }
  for (const [name, from] of Object.entries(setup.link ?? {})) {
    const target = join(dir, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(realpathSync(from), target, 'dir');
  }
  return {
    dir,
    run(file, source, env = {}) {
      writeFileSync(join(dir, file), source);
      const { NODE_PATH: _, ...inherited } = process.env;
      return new Promise((resolve, reject) =>
        execFile(process.execPath, [file], { cwd: dir, env: { ...inherited, ...env }, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${file} failed: ${err.message}\n${stderr}`)) : resolve(stdout.trim()),
        ),
      );
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Where a workspace package's dependency really is (through its node_modules link). */
export function dependencyOf(packageDir: string, name: string): string {
  return realpathSync(join(packageDir, 'node_modules', name));
}
