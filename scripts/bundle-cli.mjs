// Bundles the secure-stack bin. Node's ESM loader costs a few milliseconds per module, and a run
// loads about a hundred (ours, ejs): one file halves the start-up. What a run loads only on demand
// (the YAML parser for a YAML answers file, verify) becomes a chunk of its own under chunks/, so
// V8 does not parse it on every run. yeoman-environment stays outside (loaded only by interactive
// runs), as does node-diff3 (required on the first merge). The generator for `yo` keeps its
// separate modules in dist/.
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const banner =
  "import { createRequire as __secureStackRequire } from 'node:module'; const require = __secureStackRequire(import.meta.url);";
// The bundle replaces tsc's output in place: bundling it twice would bundle a bundle whose chunks are gone.
if (readFileSync(`${root}/dist/cli/main.js`, 'utf8').includes(banner)) {
  throw new Error('dist/cli/main.js is already bundled: run npm run build (tsc, then this script)');
}
rmSync(`${root}/dist/cli/chunks`, { recursive: true, force: true });
await build({
  entryPoints: [`${root}/dist/cli/main.js`],
  outdir: `${root}/dist/cli`,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['yeoman-environment', 'node-diff3'],
  // CommonJS dependencies (yaml) call require(); give each ESM output file one.
  banner: { js: banner },
  logLevel: 'warning',
});
