import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    // most test files spend their time waiting (the 1 call/s limit, Redis, child processes), so one more worker than
    // cores; vitest's default (cores − 1) runs a 2-core machine's suite one file at a time
    maxWorkers: availableParallelism() + 1,
  },
});
