/**
 * Container hardening policy, asserted on every generated compose.yaml. Each test names the rule
 * it checks: CIS Docker Benchmark v1.6.0 (4.x images, 5.x runtime) and the OWASP Docker Security
 * Cheat Sheet (rules 0-13).
 */
import { describe, expect, it } from 'vitest';
import { parseMemorySize } from '../../generators/lib/answers/memory-size.js';
import { EXAMPLE_ANSWERS_JSON, generate } from '../support/generate.js';
import { readCompose, type ComposeFile, type ComposeService } from '../support/stack-files.js';

type Hardened = ComposeService & {
  user?: string;
  security_opt?: string[];
  cap_drop?: string[];
  cap_add?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  pids_limit?: number;
  privileged?: boolean;
  network_mode?: string;
  pid?: string;
  ipc?: string;
  userns_mode?: string;
  logging?: { driver: string; options: Record<string, string> };
  shm_size?: string;
};

const SCENARIOS: Record<string, Record<string, unknown>> = {
  'example answers': { answers: EXAMPLE_ANSWERS_JSON },
  'smallest budgets, redis off': {
    redis: false,
    'memory-nginx': '16m',
    'memory-backend': '128m',
    'memory-postgres': '128m',
  },
  'smallest budgets, redis on': {
    'memory-nginx': '16m',
    'memory-backend': '128m',
    'memory-postgres': '128m',
    'memory-redis': '16m',
  },
};

/** The capabilities each service may add back, proved sufficient by booting the stack. */
const ALLOWED_CAPABILITIES: Record<string, string[]> = {
  nginx: ['CHOWN', 'SETGID', 'SETUID'],
  backend: [],
  postgres: [],
  redis: [],
};

describe.each(Object.entries(SCENARIOS))('hardening policy for %s', (_name, options) => {
  let compose: ComposeFile;
  const services = () => Object.entries(compose.services) as [string, Hardened][];

  it('is generated', async () => {
    compose = readCompose(await generate({ options }));
  });

  it('CIS 5.26 / OWASP rule 4: no-new-privileges on every service', () => {
    for (const [name, service] of services()) expect(service.security_opt, name).toEqual(['no-new-privileges:true']);
  });

  it('CIS 5.4 / OWASP rule 3: all capabilities dropped, only the minimal set added back', () => {
    for (const [name, service] of services()) {
      expect(service.cap_drop, name).toEqual(['ALL']);
      expect(service.cap_add ?? [], name).toEqual(ALLOWED_CAPABILITIES[name]);
    }
  });

  const bytes = (size: string) => parseMemorySize(size)!.bytes;
  it('CIS 5.13 / OWASP rule 8: read-only root filesystems, writable paths only as tmpfs, each sized within the memory limit', () => {
    for (const [name, service] of services()) {
      expect(service.read_only, name).toBe(true);
      expect(service.tmpfs?.length, name).toBeGreaterThan(0);
      let total = 0;
      for (const entry of service.tmpfs ?? []) {
        // An unsized tmpfs may grow to half the host's memory, all of it charged to the container.
        const match = /^\/(?:tmp|var\/run\/postgresql):size=([1-9][0-9]*)m$/.exec(entry);
        expect(match, `${name} ${entry}`).not.toBeNull();
        total += Number(match![1]) * 1024 ** 2;
      }
      expect(total, name).toBeLessThanOrEqual(bytes(service.deploy!.resources!.limits!.memory!) / 2);
    }
  });

  it('CIS 5.22: the default seccomp profile is kept', () => {
    for (const [name, service] of services())
      expect(
        (service.security_opt ?? []).filter((option) => option.startsWith('seccomp')),
        name,
      ).toEqual([]);
  });

  it('CIS 4.1 / OWASP rule 2: services run as non-root users where the image allows', () => {
    for (const [name, service] of services()) {
      if (name === 'nginx')
        expect(service.user, 'nginx: master must start as root to open /dev/stdout, workers drop').toBeUndefined();
      else expect(service.user, name).toMatch(/^[1-9][0-9]*:[1-9][0-9]*$/);
    }
  });

  it('CIS 5.29 / OWASP rule 7: a pids limit on every service', () => {
    for (const [name, service] of services()) {
      expect(service.pids_limit, name).toBeGreaterThanOrEqual(32);
      expect(service.pids_limit, name).toBeLessThanOrEqual(512);
    }
  });

  it('CIS 5.11 / OWASP rule 7: a memory limit on every service', () => {
    for (const [name, service] of services())
      expect(service.deploy?.resources?.limits?.memory, name).toMatch(/^\d+[bkmg]$/);
  });

  it('CIS 5.5, 5.10, 5.16, 5.17, 5.18, 5.21, 5.31, 5.32 / OWASP rule 1: no privileged mode, host namespaces, devices or Docker socket', () => {
    for (const [name, service] of services()) {
      expect(service.privileged, name).toBeUndefined();
      for (const key of ['network_mode', 'pid', 'ipc', 'userns_mode', 'uts', 'devices', 'cgroup_parent'] as const)
        expect((service as Record<string, unknown>)[key], `${name} ${key}`).toBeUndefined();
      for (const volume of service.volumes ?? []) expect(volume, name).not.toMatch(/docker\.sock|^\/(?!.*:)|^\/:/);
    }
  });

  it('OWASP rule 7: log rotation bounds every service log', () => {
    for (const [name, service] of services()) {
      expect(service.logging, name).toEqual({ driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } });
    }
  });

  it('restart policy as answered on every service', () => {
    for (const [name, service] of services()) expect(service.restart, name).toBe('unless-stopped');
  });
});
