import { defineConfig } from 'tsdown';

// A private app: ESM only, no types; dependencies stay external and load from their own dist.
export default defineConfig({
  entry: ['src/index.ts', 'src/main.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  dts: false,
  sourcemap: false,
});
