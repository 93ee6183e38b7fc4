import { project } from '../../vitest.shared.ts';

export default project('reliability', { testTimeout: 120_000 });
