import { project } from '../../vitest.shared.ts';

export default project('nest-example', { testTimeout: 30_000 });
