/**
 * `nginx -t` with the real nginx on a generated stack's nginx.conf, with the files laid out as
 * Compose lays them out in the nginx container: the service's volumes under /etc/nginx, its
 * secrets under /run/secrets, and the Compose service names resolvable (nginx resolves upstream
 * names when it loads its config). All of it happens in a private mount namespace; the names
 * map to TEST-NET addresses in 198.18.0.0/15 that are never contacted: -t only parses and loads.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hasCommand } from './prerequisites.js';
import { readCompose, readStackFile, type ComposeFile } from './stack-files.js';

export function nginxAvailable(): boolean {
  return hasCommand('nginx', ['-v']) && hasCommand('unshare', ['--mount', 'true']);
}

export interface NginxResult {
  ok: boolean;
  output: string;
}

/** nginx -t on the stack in `directory`, as its nginx container would load it. */
export function nginxTestStack(directory: string, configOverride?: string): NginxResult {
  const compose = readCompose(directory);
  return nginxTestLaidOut(directory, compose, Object.keys(compose.services), configOverride);
}

/**
 * nginx -t on the Swarm rendering, laid out as stack.yaml mounts it and with no service name
 * resolvable: on a swarm nginx must load before any backend task exists.
 */
export function nginxTestSwarm(directory: string, configOverride?: string): NginxResult {
  return nginxTestLaidOut(directory, readStackFile(directory), [], configOverride);
}

function nginxTestLaidOut(
  directory: string,
  compose: ComposeFile,
  resolvable: readonly string[],
  configOverride?: string,
): NginxResult {
  const nginx = compose.services['nginx']!;
  const workspace = mkdtempSync(join(tmpdir(), 'nginx-test-'));
  const etc = layOutEtcNginx(directory, nginx, workspace);
  if (configOverride !== undefined) writeFileSync(join(etc, 'nginx.conf'), configOverride);
  const secrets = join(workspace, 'secrets');
  mkdirSync(secrets);
  // stack.yaml grants the TLS key in the long syntax ({ source, target, mode }).
  for (const entry of (nginx.secrets ?? []) as (string | { source: string })[]) {
    const name = typeof entry === 'string' ? entry : entry.source;
    copyFileSync(resolve(directory, compose.secrets[name]!.file), join(secrets, name));
  }
  const hosts = join(workspace, 'hosts');
  writeFileSync(
    hosts,
    `${['127.0.0.1 localhost', ...resolvable.map((name, index) => `198.18.0.${index + 10} ${name}`)].join('\n')}\n`,
  );
  const script = [
    'set -e',
    'mount --bind "$1/hosts" /etc/hosts',
    'mount --bind "$1/etc-nginx" /etc/nginx',
    'mount -t tmpfs tmpfs /run',
    'mkdir /run/secrets',
    'mount --bind "$1/secrets" /run/secrets',
    'exec nginx -t -q -e stderr -c /etc/nginx/nginx.conf',
  ].join('\n');
  return runCaptured(['unshare', '--mount', 'sh', '-c', script, 'nginx-test', workspace], workspace);
}

/**
 * A copy of the host's /etc/nginx with the service's bind-mounted files in place, as its container
 * sees them (the long-syntax tmpfs mounts of stack.yaml need no file). Returns its path.
 */
function layOutEtcNginx(directory: string, nginx: ComposeFile['services'][string], workspace: string): string {
  const etc = join(workspace, 'etc-nginx');
  cpSync('/etc/nginx', etc, { recursive: true });
  for (const volume of (nginx.volumes ?? []).filter((volume): volume is string => typeof volume === 'string')) {
    const [source, target] = volume.split(':') as [string, string];
    if (!target.startsWith('/etc/nginx/')) throw new Error(`nginx test: cannot lay out volume ${volume}`);
    copyFileSync(resolve(directory, source), join(etc, target.slice('/etc/nginx/'.length)));
  }
  return etc;
}

/** nginx -t on one config file with `serviceNames` resolvable (no volumes or secrets). */
export function nginxTest(configPath: string, serviceNames: readonly string[]): NginxResult {
  const workspace = mkdtempSync(join(tmpdir(), 'nginx-test-'));
  const hosts = join(workspace, 'hosts');
  writeFileSync(
    hosts,
    `${['127.0.0.1 localhost', ...serviceNames.map((name, index) => `198.18.0.${index + 10} ${name}`)].join('\n')}\n`,
  );
  return runCaptured(
    [
      'unshare',
      '--mount',
      'sh',
      '-c',
      'mount --bind "$1" /etc/hosts && exec nginx -t -q -e stderr -c "$2"',
      'nginx-test',
      hosts,
      configPath,
    ],
    workspace,
  );
}

/**
 * Output goes to a file, as in a container: node's pipes are sockets, and nginx cannot open
 * /dev/stdout (the config's access_log) on a socket.
 */
function runCaptured(command: string[], workspace: string): NginxResult {
  const outputPath = join(workspace, 'output');
  const output = openSync(outputPath, 'w');
  const result = spawnSync(command[0]!, command.slice(1), { stdio: ['ignore', output, output] });
  closeSync(output);
  return { ok: result.status === 0, output: readFileSync(outputPath, 'utf8') };
}

/**
 * What the backend is sent for each path: nginx runs the stack's nginx.conf (or, with `swarm`,
 * nginx.swarm.conf, its resolver and backend address pointed at loopback, as no Docker DNS is
 * here) in private mount and network namespaces, with an echo server as the backend on its port.
 * Each answer is the request line the backend received, or nginx's status when it answered itself.
 */
export function nginxForwards(
  directory: string,
  paths: readonly string[],
  options: { swarm?: boolean; host: string; backendPort: number },
): Map<string, string> {
  const compose = options.swarm ? readStackFile(directory) : readCompose(directory);
  // Under /var/tmp: the namespace puts a private directory over /tmp, where nginx writes its pid and buffers.
  const workspace = mkdtempSync(join('/var/tmp', 'nginx-forwards-'));
  const etc = layOutEtcNginx(directory, compose.services['nginx']!, workspace);
  if (options.swarm) {
    const config = readFileSync(join(etc, 'nginx.conf'), 'utf8');
    writeFileSync(
      join(etc, 'nginx.conf'),
      config
        .replace(/resolver 127\.0\.0\.11 /, 'resolver 127.0.0.1 ')
        .replace(/http:\/\/backend:(\d+);/g, 'http://127.0.0.1:$1;'),
    );
  }
  writeFileSync(join(workspace, 'hosts'), '127.0.0.1 localhost backend\n');
  writeFileSync(
    join(workspace, 'echo.py'),
    [
      'import http.server, sys',
      'class Echo(http.server.BaseHTTPRequestHandler):',
      '    def do_GET(self):',
      '        body = self.requestline.encode()',
      '        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)',
      '    def log_message(self, *args): pass',
      'http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()',
    ].join('\n'),
  );
  writeFileSync(join(workspace, 'paths'), `${paths.join('\n')}\n`);
  const script = [
    'set -e',
    'cd "$1"',
    'ip link set lo up',
    'mount --bind "$1/hosts" /etc/hosts',
    'mount --bind "$1/etc-nginx" /etc/nginx',
    '/usr/bin/python3 "$1/echo.py" "$2" & echo_pid=$!',
    // Whatever fails below, neither the echo server nor nginx outlives the script.
    "trap 'nginx -s stop -c /etc/nginx/nginx.conf 2>/dev/null; kill $echo_pid 2>/dev/null' EXIT",
    'mkdir -p "$1/tmp" && mount --bind "$1/tmp" /tmp',
    'nginx -e stderr -c /etc/nginx/nginx.conf',
    'for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:$2/ 2>/dev/null && break; sleep 0.1; done',
    'while IFS= read -r path; do',
    '  printf "%s\\t" "$path"',
    '  curl -s --path-as-is -H "Host: $3" -w " [%{http_code}]" "http://127.0.0.1:8080$path" | tr -d "\\n"',
    '  printf "\\n"',
    'done < "$1/paths" > "$1/forwards"',
  ].join('\n');
  const result = runCaptured(
    [
      'unshare',
      '--mount',
      '--net',
      'sh',
      '-c',
      script,
      'nginx-forwards',
      workspace,
      String(options.backendPort),
      options.host,
    ],
    workspace,
  );
  if (!result.ok) throw new Error(`nginx forwards: ${result.output}`);
  const answers = new Map<string, string>();
  const lines = readFileSync(join(workspace, 'forwards'), 'utf8').split('\n').filter(Boolean);
  rmSync(workspace, { recursive: true, force: true });
  for (const line of lines) {
    const [path, answer] = line.split('\t') as [string, string];
    const echoed = /^(GET \S+ HTTP\/1\.[01]) \[200\]$/.exec(answer);
    answers.set(path, echoed ? echoed[1]! : `nginx ${/\[(\d+)\]$/.exec(answer)?.[1] ?? answer}`);
  }
  return answers;
}
