import { defineConfig, type UserConfig } from 'tsdown';

/** The build every published package shares: ESM + CJS + types for Node 20, `exports` written by tsdown. */
export function packageConfig(options: { entry: string[]; exports?: UserConfig['exports'] }) {
  return defineConfig({
    entry: options.entry,
    format: ['esm', 'cjs'],
    platform: 'node',
    target: 'node20',
    dts: true,
    exports: options.exports ?? true,
    sourcemap: false,
  });
}
