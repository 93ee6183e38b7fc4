import type { UserConfig } from 'tsdown';
import { packageConfig } from '../../tsdown.shared.ts';
import { rawPlugin } from './raw-plugin.ts';

const config: UserConfig = {
  ...packageConfig({ entry: ['src/index.ts', 'src/cli.ts'], exports: { exclude: ['cli'] } }),
  plugins: [rawPlugin()],
};

export default config;
