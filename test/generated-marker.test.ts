/** Every file the generator owns says so, in one wording, and pull requests fold its pristine copies away. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_MARKER } from '../generators/lib/generated-marker.js';
import { EXAMPLE_ANSWERS_JSON, generate } from './support/generate.js';

describe('the generated-file marker', () => {
  it('heads every generator-owned file (in a description for JSON), and no file the user owns', async () => {
    // Swarm and TLS: every template the generator has renders.
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON, swarm: true, tls: 'self-signed' } });
    const { files } = JSON.parse(readFileSync(join(directory, '.secure-stack/state.json'), 'utf8')) as {
      files: Record<string, 'generator' | 'user'>;
    };
    const owned = Object.entries(files)
      .filter(([, owner]) => owner === 'generator')
      .map(([path]) => path);
    expect(owned).toEqual(
      expect.arrayContaining([
        'compose.yaml',
        'stack.yaml',
        'backend/manage.py',
        'backend/config/wsgi.py',
        'backend/config/__init__.py',
      ]),
    );
    const unmarked = owned.filter((path) => {
      const content = readFileSync(join(directory, path), 'utf8');
      if (path.endsWith('.json'))
        return !String((JSON.parse(content) as { description?: unknown }).description).startsWith(GENERATED_MARKER);
      // The first line, or the second after a #! line.
      const head = content
        .split('\n')
        .slice(0, content.startsWith('#!') ? 2 : 1)
        .at(-1)!;
      return !(
        head === `# ${GENERATED_MARKER}` ||
        head === `-- ${GENERATED_MARKER}` ||
        head === `<!-- ${GENERATED_MARKER} -->`
      );
    });
    expect(unmarked).toEqual([]);
    for (const [path, owner] of Object.entries(files))
      if (owner === 'user') expect(readFileSync(join(directory, path), 'utf8'), path).not.toContain(GENERATED_MARKER);
  });

  it("marks the pristine copies under .secure-stack/rendered as generated in a .gitattributes of the user's own", async () => {
    const directory = await generate({ options: { answers: EXAMPLE_ANSWERS_JSON } });
    const attributes = readFileSync(join(directory, '.gitattributes'), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    expect(attributes).toEqual(['.secure-stack/rendered/** linguist-generated=true']);
    // git itself reads it so: the copies are generated, the files they mirror are not.
    execFileSync('git', ['init', '--quiet'], { cwd: directory });
    const attribute = (path: string) =>
      execFileSync('git', ['check-attr', 'linguist-generated', '--', path], {
        cwd: directory,
        encoding: 'utf8',
      }).trim();
    expect(attribute('.secure-stack/rendered/compose.yaml.base')).toBe(
      '.secure-stack/rendered/compose.yaml.base: linguist-generated: true',
    );
    expect(attribute('.secure-stack/rendered/backend/config/settings.py.base')).toMatch(/: linguist-generated: true$/);
    expect(attribute('compose.yaml')).toBe('compose.yaml: linguist-generated: unspecified');
    // Written once: a .gitattributes the repository had is never merged into (no conflict on upgrade).
    const state = JSON.parse(readFileSync(join(directory, '.secure-stack/state.json'), 'utf8')) as {
      files: Record<string, string>;
    };
    expect(state.files['.gitattributes']).toBe('user');
  });
});
