/** This package's name and version, from its package.json: two levels up in the sources, three in dist/. */
import { existsSync, readFileSync } from 'node:fs';

const candidates = ['../../package.json', '../../../package.json'].map((path) => new URL(path, import.meta.url));
const packageJsonUrl = candidates.find((url) => existsSync(url));
if (!packageJsonUrl) throw new Error('generator-secure-stack: package.json not found beside the generator');
const packageJson = JSON.parse(readFileSync(packageJsonUrl, 'utf8')) as { name: string; version: string };

export const PACKAGE_NAME = packageJson.name;
export const PACKAGE_VERSION = packageJson.version;
