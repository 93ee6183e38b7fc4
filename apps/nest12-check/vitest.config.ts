import { fileURLToPath } from 'node:url';
import { project } from '../../vitest.shared.ts';

// The tests of packages/nestjs and apps/nest-example, run again with every @nestjs/* import aliased to the Nest 12
// installed here. Aliased files are in node_modules, so Node loads them natively, and their own @nestjs/* imports
// resolve through pnpm's peer links of this package: Nest 12 throughout (test/versions.test.ts asserts it).
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const nest = ['common', 'core', 'testing', 'platform-express', 'terminus', 'config'].map((name) => ({
  find: new RegExp(`^@nestjs/${name}(/.*)?$`),
  replacement: `${here(`node_modules/@nestjs/${name}`)}$1`,
}));

const config = project('nestjs-nest12', { testTimeout: 30_000 });
config.resolve!.alias = [...nest, ...(config.resolve!.alias as { find: RegExp; replacement: string }[])];
config.test!.dir = here('../..');
config.test!.include = ['packages/nestjs/test/**/*.test.ts', 'apps/nest-example/test/**/*.test.ts'];
// dist.test.ts checks the tsdown output itself; its Nest 12 counterpart is the compiled app in dist/app
config.test!.exclude = ['packages/nestjs/test/dist.test.ts'];
config.test!.env = {
  EXPECT_NEST_MAJOR: '12',
  NEST_MODULES_FROM: here('package.json'),
  NEST_EXAMPLE_MAIN: here('dist/app/main.js'),
};

export default config;
