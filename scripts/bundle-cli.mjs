// Bundles the secure-stack bin into one file. Node's ESM loader costs a few milliseconds per
// module, and a run loads about a hundred (ours, yaml, ejs): one file halves the start-up.
// yeoman-environment stays outside (loaded only by interactive runs), as does node-diff3
// (required on the first merge). The generator for `yo` keeps its separate modules in dist/.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  entryPoints: [`${root}/dist/cli/main.js`],
  outfile: `${root}/dist/cli/main.js`,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['yeoman-environment', 'node-diff3'],
  // CommonJS dependencies (yaml) call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __secureStackRequire } from 'node:module'; const require = __secureStackRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
