import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import commonPkg from '@nestjs/common/package.json' with { type: 'json' };
import corePkg from '@nestjs/core/package.json' with { type: 'json' };
import terminusPkg from '@nestjs/terminus/package.json' with { type: 'json' };
import testingPkg from '@nestjs/testing/package.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';

// This suite runs on Nest 11 (project 'nestjs') and Nest 12 (project 'nestjs-nest12', see apps/nest12-check).
// Check that each run really loaded the version it claims, and that @nestjs/core, testing and terminus see a
// @nestjs/common of the same version (pnpm resolves peers per package: a mismatch would go unnoticed otherwise).
const expected = process.env.EXPECT_NEST_MAJOR ?? '11';
const major = (version: string) => version.split('.')[0];
/** The version of package `name` as Node resolves it from `require`'s location. */
const versionFrom = (require: NodeJS.Require, name: string) => {
  const entry = require.resolve(name);
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
    if (pkg.name === name) return { entry, version: pkg.version };
  }
  throw new Error(`no package.json of ${name} above ${entry}`);
};

describe(`Nest ${expected}`, () => {
  it('the @nestjs/* packages imported by the tests', () => {
    expect(major(commonPkg.version)).toBe(expected);
    expect(major(corePkg.version)).toBe(expected);
    expect(major(testingPkg.version)).toBe(expected);
    expect(major(terminusPkg.version)).toBe(expected);
  });

  it('the @nestjs/common that @nestjs/core, testing and terminus themselves load', () => {
    const from = createRequire(process.env.NEST_MODULES_FROM ?? import.meta.url);
    const imported = { '@nestjs/core': corePkg, '@nestjs/testing': testingPkg, '@nestjs/terminus': terminusPkg };
    for (const [name, pkg] of Object.entries(imported)) {
      const { entry, version } = versionFrom(from, name);
      expect(version).toBe(pkg.version);
      expect(versionFrom(createRequire(entry), '@nestjs/common').version).toBe(commonPkg.version);
    }
  });
});
