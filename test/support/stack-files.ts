/** Reads a generated stack's files into parsed structures for assertions. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: string[];
  networks?: string[];
  secrets?: string[];
  environment?: Record<string, string>;
  /** Short syntax in compose.yaml; stack.yaml adds long-syntax tmpfs mounts. */
  volumes?: (string | { type: string; target: string; tmpfs?: { size?: number } })[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { resources?: { limits?: { memory?: string } } };
  restart?: string;
  command?: string[];
}

export interface ComposeFile {
  name: string;
  version?: string;
  services: Record<string, ComposeService>;
  networks: Record<string, { internal?: boolean; driver?: string }>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { file: string }>;
}

export function readCompose(directory: string): ComposeFile {
  return parse(readFileSync(join(directory, 'compose.yaml'), 'utf8')) as ComposeFile;
}

/** stack.yaml, the Swarm target, in the same shape (its volumes mix strings and long-syntax mounts). */
export function readStackFile(directory: string): ComposeFile {
  return parse(readFileSync(join(directory, 'stack.yaml'), 'utf8')) as ComposeFile;
}

export function readStored(directory: string): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(directory, '.yo-rc.json'), 'utf8')) as Record<string, Record<string, unknown>>)[
    'generator-secure-stack'
  ]!;
}
