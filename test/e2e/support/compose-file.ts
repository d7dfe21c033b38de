/** Rewriting a compose.yaml in the tests and the bench, so that every Compose client reads it back as written. */
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

/**
 * Strings quoted as YAML 1.1 needs: docker-compose 1.29 reads with PyYAML (YAML 1.1), where a
 * plain `yes`, `on` or `y` is a boolean, though YAML 1.2 (the yaml package's default) writes them
 * bare ("services.redis.command contains true, which is an invalid type").
 */
export function writeCompose(path: string, compose: unknown): void {
  writeFileSync(path, stringify(compose, { version: '1.1' }));
}
