import { project } from '../../vitest.shared.ts';

export default project('express-example', { testTimeout: 30_000 });
