import { project } from '../../vitest.shared.ts';
import { rawPlugin } from './raw-plugin.ts';

const base = project('emulator', { testTimeout: 30_000 });

// The dashboard's stylesheet is imported as text (?raw); vitest blanks CSS it is not told to keep.
export default { ...base, plugins: [rawPlugin()], test: { ...base.test, css: { include: [/dashboard\.css/] } } };
