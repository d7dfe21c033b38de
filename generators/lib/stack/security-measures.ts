/**
 * Rule numbers: CIS Docker Benchmark v1.6.0 and the OWASP Docker Security Cheat Sheet (rules 0-13).
 * The security measures of a generated stack, each with the rule it meets, for the Security
 * section of the stack's README. Derived from the model, so the list says what the stack does.
 */
import type { StackModel } from './stack-model.js';

export interface SecurityMeasure {
  measure: string;
  rule: string;
}

export function securityMeasures(model: StackModel): SecurityMeasure[] {
  const capabilityNotes = model.services
    .filter((service) => service.hardening.capAdd.length > 0)
    .map((service) => `${service.name} adds back ${service.hardening.capAdd.map((cap) => cap.capability).join(', ')}`)
    .join('; ');
  const nonRoot = model.services.filter((service) => service.hardening.user).map((service) => service.name);
  return [
    {
      measure: 'Data stores on an `internal: true` network; only nginx publishes a port',
      rule: 'CIS Docker Benchmark v1.6 5.30, OWASP Docker rule 5',
    },
    {
      measure:
        'Secrets as Docker secrets read through `*_FILE`, each service only its own; generated with a CSPRNG, git-ignored',
      rule: 'OWASP Docker rule 12, CIS 4.10',
    },
    { measure: '`no-new-privileges` on every container', rule: 'CIS 5.26, OWASP Docker rule 4' },
    {
      measure: `All capabilities dropped${capabilityNotes ? ` (${capabilityNotes})` : ''}`,
      rule: 'CIS 5.4, OWASP Docker rule 3',
    },
    { measure: 'Read-only root filesystems, writable paths as tmpfs', rule: 'CIS 5.13, OWASP Docker rule 8' },
    {
      measure: `Non-root users: ${nonRoot.join(', ')}; nginx workers drop to an unprivileged user`,
      rule: 'CIS 4.1, OWASP Docker rule 2',
    },
    { measure: 'Memory and pids limits on every container', rule: 'CIS 5.11/5.29, OWASP Docker rule 7' },
    {
      measure: 'No privileged mode, no host namespaces, no Docker socket',
      rule: 'CIS 5.5/5.10/5.16/5.17/5.18/5.21/5.31/5.32, OWASP Docker rule 1',
    },
    { measure: 'Log rotation (json-file, 10 MB x 3)', rule: 'OWASP Docker rule 7 (bounded disk use)' },
    {
      measure: 'Healthchecks that fail when the service cannot serve; `depends_on` waits for healthy',
      rule: 'CIS 4.6/5.27',
    },
    {
      measure:
        'Images pinned to patched release tags and run by digest (`name:tag@sha256:...`); Renovate (`renovate.json`) proposes updates, security fixes at once, moving tag and digest together',
      rule: 'CIS 4.2/4.3, OWASP Docker rule 13',
    },
    {
      measure: `nginx: \`server_tokens off\`, security headers, unknown hosts dropped (444), ${model.rateLimit.rate} and ${model.entry.connectionsPerClient} connections per client (429), timeouts, a ${model.entry.maxBodySize} body limit within its sized /tmp, \`X-Forwarded-For\` set from the client's address (a client's own value discarded), its healthcheck on loopback only, the backend's \`${model.backendHealthPath}\` ${model.publicBackendHealth ? 'published (publicHealth)' : 'on loopback only'}`,
      rule: 'OWASP Secure Headers, OWASP DoS cheat sheet',
    },
    ...(model.tls
      ? [
          {
            measure: "TLS key readable by nginx's master (root) alone, not by the workers that handle requests",
            rule: 'OWASP Docker rule 12 (least privilege)',
          },
        ]
      : []),
    {
      measure: `The backend's database role (${model.dbUser}) is not a superuser: no \`COPY ... TO PROGRAM\`, no other database`,
      rule: 'CWE-250 (execution with unnecessary privileges), OWASP Docker rule 12',
    },
    ...(model.redis
      ? [
          {
            measure:
              'Redis users: `default` off; `backend` without `@dangerous`, `@admin` or `@scripting` commands (no EVAL, CONFIG, ACL, FLUSHALL, MODULE); `healthcheck` may only PING',
            rule: 'OWASP Docker rule 12 (least privilege), Redis ACL docs, CVE-2025-49844 (Lua, reached through EVAL)',
          },
        ]
      : []),
    {
      measure: 'Django: `DEBUG` off, `ALLOWED_HOSTS` pinned, `manage.py check --deploy` clean',
      rule: 'Django deployment checklist',
    },
  ];
}
