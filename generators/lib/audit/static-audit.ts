/**
 * The static part of the third-party-scanner audit of a generated repository: bandit on the
 * backend, shellcheck on the shell-form healthchecks and backend/serve.sh, yamllint on the YAML, and our gixy and
 * hadolint rules on nginx.conf and the backend's Dockerfile. Nothing is started; a scanner that is
 * not installed is listed as missing, with its Debian package, and the others still run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_VERSION } from '../package-info.js';
import { runBandit, BANDIT } from './bandit.js';
import { auditDockerfile, DOCKERFILE_PATH } from './dockerfile-rules.js';
import { MissingToolError, toolVersion, type ExternalTool } from './external-tool.js';
import type { Finding, ScannerName } from './findings.js';
import { NginxSyntaxError } from './nginx-config.js';
import { auditNginxConfig, NGINX_CONFIG_PATH } from './nginx-rules.js';
import { shellcheckComposeHealthchecks, shellcheckFiles, SHELLCHECK } from './shellcheck.js';
import { runYamllint, YAMLLINT } from './yamllint.js';

export interface StaticAuditResult {
  findings: Finding[];
  /** Each scanner that ran, with its version (our own rules carry this package's version). */
  ran: { scanner: ScannerName; version: string }[];
  /** Scanners not installed, with the Debian package that installs each. */
  missing: { scanner: ScannerName; install: string }[];
}

/** The scanners the static audit runs: the allow-list's other entries (testssl) belong to the live audit. */
export const STATIC_AUDIT_SCANNERS: readonly ScannerName[] = [
  'bandit',
  'shellcheck',
  'yamllint',
  'nginx-rules',
  'dockerfile-rules',
];

const COMPOSE_FILE = 'compose.yaml';
/** YAML the generator writes or reads, audited where present. */
const YAML_FILES = [COMPOSE_FILE, 'stack.yaml'];
/** Shell scripts the generator writes (older repositories may lack them). */
const GENERATED_SCRIPTS = ['backend/serve.sh'];

/** nginx.conf, and nginx.swarm.conf where the repository has the Swarm target. */
const NGINX_CONFIG_FILES = [NGINX_CONFIG_PATH, 'nginx/nginx.swarm.conf'];

function nginxFindings(repositoryDirectory: string): Finding[] {
  return NGINX_CONFIG_FILES.filter((path) => existsSync(join(repositoryDirectory, path))).flatMap((path) => {
    try {
      return auditNginxConfig(readFileSync(join(repositoryDirectory, path), 'utf8'), path);
    } catch (error) {
      // A configuration the rules cannot read is one they did not audit: a finding, never a pass.
      if (!(error instanceof NginxSyntaxError)) throw error;
      return [{ scanner: 'nginx-rules', id: 'syntax', location: `${path}:${error.line}`, message: error.message }];
    }
  });
}

export async function runStaticAudit(repositoryDirectory: string): Promise<StaticAuditResult> {
  const result: StaticAuditResult = { findings: [], ran: [], missing: [] };
  const external: [ExternalTool, () => Finding[]][] = [
    [BANDIT, () => runBandit(repositoryDirectory, 'backend')],
    [
      SHELLCHECK,
      () => [
        ...shellcheckComposeHealthchecks(repositoryDirectory, COMPOSE_FILE),
        ...shellcheckFiles(
          GENERATED_SCRIPTS.filter((file) => existsSync(join(repositoryDirectory, file))),
          repositoryDirectory,
        ),
      ],
    ],
    [
      YAMLLINT,
      () =>
        runYamllint(
          repositoryDirectory,
          YAML_FILES.filter((file) => existsSync(join(repositoryDirectory, file))),
        ),
    ],
  ];
  for (const [tool, audit] of external) {
    try {
      const version = toolVersion(tool);
      result.findings.push(...audit());
      result.ran.push({ scanner: tool.scanner, version });
    } catch (error) {
      if (!(error instanceof MissingToolError)) throw error;
      result.missing.push({ scanner: tool.scanner, install: tool.debianPackage });
    }
  }
  result.findings.push(...nginxFindings(repositoryDirectory));
  result.ran.push({ scanner: 'nginx-rules', version: PACKAGE_VERSION });
  result.findings.push(...auditDockerfile(readFileSync(join(repositoryDirectory, DOCKERFILE_PATH), 'utf8')));
  result.ran.push({ scanner: 'dockerfile-rules', version: PACKAGE_VERSION });
  return result;
}
