/**
 * This package's root, name and version. Node resolves the package's own name from any file
 * inside it (package.json "exports" lists package.json, and every other path as it is, so deep
 * imports keep working), so the TypeScript sources, the compiled generator in dist/ and the
 * bundled bin all find the same root without knowing their depth.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const packageJsonPath = createRequire(import.meta.url).resolve('generator-secure-stack/package.json');
const packageJson = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { name: string; version: string };

export const PACKAGE_ROOT = dirname(packageJsonPath);
export const PACKAGE_NAME = packageJson.name;
export const PACKAGE_VERSION = packageJson.version;
