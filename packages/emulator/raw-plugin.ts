import { readFileSync } from 'node:fs';

/**
 * `import text from './file?raw'` gives the file's text. Used by the build (tsdown) and the tests (vitest, which
 * would otherwise blank CSS), so the dashboard's assets ship inside dist as strings and tests serve the same.
 */
export function rawPlugin() {
  const suffix = /\?raw$/;
  return {
    name: 'tim-broadcast:raw',
    enforce: 'pre' as const,
    async resolveId(this: { resolve(id: string, importer?: string): Promise<{ id: string } | null> }, id: string, importer?: string) {
      if (!suffix.test(id)) return null;
      const resolved = await this.resolve(id.replace(suffix, ''), importer);
      return resolved && `${resolved.id}?raw`;
    },
    load(id: string) {
      if (!suffix.test(id)) return null;
      return { code: `export default ${JSON.stringify(readFileSync(id.replace(suffix, ''), 'utf8'))};`, moduleType: 'js' };
    },
  };
}
