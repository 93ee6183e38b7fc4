// Lays out a CommonJS Nest 12 app as a user would have it after `npm install`:
//   dist/app/                          the example app compiled by tsc (CommonJS)
//   dist/node_modules/@tim-broadcast/nestjs   a copy of the built package (what `npm pack` ships)
// A copy, not the workspace symlink: through the symlink the package would resolve @nestjs/* from
// packages/nestjs/node_modules (Nest 11); from here it resolves them from this package's node_modules (Nest 12).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const here = (path) => new URL(path, import.meta.url);
const nestjsPkg = here('../../packages/nestjs/');
const copy = here('dist/node_modules/@tim-broadcast/nestjs/');

rmSync(here('dist'), { recursive: true, force: true });
mkdirSync(copy, { recursive: true });
cpSync(new URL('package.json', nestjsPkg), new URL('package.json', copy));
cpSync(new URL('dist', nestjsPkg), new URL('dist', copy), { recursive: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: here('.'), stdio: 'inherit' });
// this package is "type": "module"; the compiled app is CommonJS
writeFileSync(here('dist/app/package.json'), '{ "type": "commonjs" }\n');
