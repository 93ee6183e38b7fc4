import { readFileSync } from 'node:fs';
import type { Rolldown, UserConfig } from 'tsdown';
import { packageConfig } from '../../tsdown.shared.ts';

/** `import text from './file?raw'` gives the file's text, as Vite does in tests: the dashboard ships inside dist. */
function raw(): Rolldown.Plugin {
  const suffix = /\?raw$/;
  return {
    name: 'tim-broadcast:raw',
    resolveId: {
      filter: { id: suffix },
      async handler(id, importer) {
        const resolved = await this.resolve(id.replace(suffix, ''), importer);
        return resolved && { id: `${resolved.id}?raw` };
      },
    },
    load: {
      filter: { id: suffix },
      handler(id) {
        return { code: `export default ${JSON.stringify(readFileSync(id.replace(suffix, ''), 'utf8'))};`, moduleType: 'js' };
      },
    },
  };
}

const config: UserConfig = {
  ...packageConfig({ entry: ['src/index.ts', 'src/cli.ts'], exports: { exclude: ['cli'] } }),
  plugins: [raw()],
};

export default config;
