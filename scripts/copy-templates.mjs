// Copies templates/ into dist/templates so the published package (which ships only dist/) renders them.
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}/dist/templates`, { recursive: true, force: true });
cpSync(`${root}/templates`, `${root}/dist/templates`, { recursive: true });
