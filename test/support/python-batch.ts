/**
 * Compiles many stacks' Python in one interpreter run: the sources go to a temporary tree (each
 * distinct file once), and one /usr/bin/python3 compiles every file as py_compile does
 * (compile() of the bytes) and reads ROUTES and ALLOWED_HOSTS back with ast.literal_eval.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DEBIAN_PYTHON } from './prerequisites.js';
import type { PythonSources } from './output-checks.js';

const SCRIPT = `
import ast, json, sys

manifest = json.load(open(sys.argv[1]))
errors = []
for path in manifest["compile"]:
    try:
        with open(path, "rb") as source:
            compile(source.read(), path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        errors.append({"path": path, "error": repr(error)})


def assigned(path, name):
    with open(path, "rb") as source:
        tree = ast.parse(source.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    return None


facts = {}
for case in manifest["cases"]:
    try:
        facts[case["id"]] = {"routes": assigned(case["routes"], "ROUTES"), "allowedHosts": assigned(case["settings"], "ALLOWED_HOSTS")}
    except Exception as error:
        facts[case["id"]] = {"error": repr(error)}
print(json.dumps({"errors": errors, "facts": facts}))
`;

export interface PythonFailure {
  id: string;
  problem: string;
}

/** Returns one failure per case whose Python does not compile or does not hold its expected values. */
export function checkPythonBatch(cases: readonly { id: string; sources: PythonSources }[]): PythonFailure[] {
  const root = mkdtempSync(join(tmpdir(), 'secure-stack-python-'));
  try {
    const written = new Map<string, string>(); // content hash -> path on disk
    const usersOf = new Map<string, string[]>(); // path on disk -> case ids
    const manifest = { compile: [] as string[], cases: [] as { id: string; routes: string; settings: string }[] };
    for (const { id, sources } of cases) {
      const pathOf: Record<string, string> = {};
      for (const [path, content] of Object.entries(sources.files)) {
        const hash = createHash('sha256').update(path).update('\0').update(content).digest('hex').slice(0, 20);
        let onDisk = written.get(hash);
        if (!onDisk) {
          mkdirSync(join(root, hash));
          onDisk = join(root, hash, basename(path));
          writeFileSync(onDisk, content);
          written.set(hash, onDisk);
          manifest.compile.push(onDisk);
        }
        usersOf.set(onDisk, [...(usersOf.get(onDisk) ?? []), `${id}:${path}`]);
        pathOf[path] = onDisk;
      }
      manifest.cases.push({
        id,
        routes: pathOf['backend/config/routes.py']!,
        settings: pathOf['backend/config/settings.py']!,
      });
    }
    const manifestPath = join(root, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const result = spawnSync(DEBIAN_PYTHON, ['-I', '-B', '-c', SCRIPT, manifestPath], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    if (result.status !== 0) return [{ id: '(all)', problem: `python3 failed: ${result.stderr}` }];
    const output = JSON.parse(result.stdout) as {
      errors: { path: string; error: string }[];
      facts: Record<string, { routes?: unknown; allowedHosts?: unknown; error?: string }>;
    };
    const failures: PythonFailure[] = output.errors.map((error) => ({
      id: (usersOf.get(error.path) ?? ['?'])[0]!,
      problem: `does not compile: ${error.error}`,
    }));
    for (const { id, sources } of cases) {
      const facts = output.facts[id];
      if (JSON.stringify(facts) !== JSON.stringify(sources.expected))
        failures.push({ id, problem: `holds ${JSON.stringify(facts)}, expected ${JSON.stringify(sources.expected)}` });
    }
    return failures;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
