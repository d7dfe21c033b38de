/** The generated renovate.json: valid JSON that keeps every pin current and pins digests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGES, PINNED_IMAGES } from '../../generators/lib/stack/images.js';
import { parse } from 'yaml';
import { EXAMPLE_ANSWERS_JSON, generate } from '../support/generate.js';

interface PackageRule {
  matchPackageNames?: string[];
  matchUpdateTypes?: string[];
  allowedVersions?: string;
  enabled?: boolean;
}
interface RenovateConfig {
  extends: string[];
  vulnerabilityAlerts: { enabled: boolean; labels: string[] };
  packageRules: PackageRule[];
  'docker-compose'?: { managerFilePatterns: string[] };
}

const read = (directory: string) =>
  JSON.parse(readFileSync(join(directory, 'renovate.json'), 'utf8')) as RenovateConfig;

describe('renovate.json', () => {
  it('pins digests, opens security fixes at once, and never proposes a PostgreSQL major release', async () => {
    const config = read(await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } }));
    expect(config.extends).toEqual(['config:recommended', 'docker:pinDigests']);
    expect(config.vulnerabilityAlerts).toEqual({ enabled: true, labels: ['security'] });
    expect(config.packageRules).toContainEqual(
      expect.objectContaining({ matchPackageNames: ['postgres'], matchUpdateTypes: ['major'], enabled: false }),
    );
    expect(config.packageRules).toContainEqual(
      expect.objectContaining({ matchPackageNames: ['django'], allowedVersions: '<5.3' }),
    );
    // compose.yaml, the Dockerfile and requirements.txt match Renovate's default file patterns.
    expect(config['docker-compose']).toBeUndefined();
  });

  it("adds stack.yaml to the Compose manager's files when the Swarm target is written", async () => {
    const config = read(await generate({ options: { answers: EXAMPLE_ANSWERS_JSON, swarm: true } }));
    const patterns = config['docker-compose']!.managerFilePatterns.map((pattern) => new RegExp(pattern.slice(1, -1)));
    expect(patterns.some((pattern) => pattern.test('stack.yaml'))).toBe(true);
    expect(patterns.some((pattern) => pattern.test('compose.yaml'))).toBe(false);
  });

  it('pins images to exact releases (PostgreSQL numbers its releases major.minor), none a moving tag', () => {
    for (const [name, image] of Object.entries(PINNED_IMAGES))
      expect(image.tag, name).toMatch(name === 'postgres' ? /^\d+\.\d+-[a-z]+$/ : /^\d+\.\d+\.\d+(?:-[a-z]+)+$/);
  });

  it("runs every pulled image by digest: compose.yaml, stack.yaml and the Dockerfile's FROM", async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON, swarm: true } });
    const digested = /^[a-z]+:[\w][\w.-]*@sha256:[0-9a-f]{64}$/;
    for (const file of ['compose.yaml', 'stack.yaml']) {
      const services = (
        parse(readFileSync(join(directory, file), 'utf8')) as {
          services: Record<string, { image: string; build?: unknown }>;
        }
      ).services;
      const pulled = Object.entries(services).filter(([name]) => name !== 'backend');
      expect(
        pulled.map(([name]) => name),
        file,
      ).toEqual(['nginx', 'postgres', 'redis']);
      for (const [name, service] of pulled)
        expect(service.image, `${file} ${name}`).toBe(IMAGES[name as keyof typeof IMAGES]);
      for (const [name, service] of pulled) expect(service.image, `${file} ${name}`).toMatch(digested);
    }
    const from = readFileSync(join(directory, 'backend', 'Dockerfile'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('FROM '));
    expect(from).toEqual([`FROM ${IMAGES.python}`]);
    expect(IMAGES.python).toMatch(digested);
  });
});
