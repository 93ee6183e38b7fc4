import { project } from '../../vitest.shared.ts';

export default project('outbox', { testTimeout: 60_000 });
