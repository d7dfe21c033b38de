/**
 * The Compose Specification JSON schema, as bundled by the dclint package (the schema
 * `docker compose` validates with), compiled once with ajv.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';

const require = createRequire(import.meta.url);
// dclint's exports map hides schemas/, so locate the package by its package.json.
const schemaPath = join(dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json');
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
// Its "$schema" names draft-07 by an https URL ajv does not register; the draft itself is ajv's default.
const { $schema: _draft, ...schema } = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
const validate = ajv.compile(schema);

export function composeSchemaErrors(document: unknown): ErrorObject[] {
  return validate(document) ? [] : [...(validate.errors ?? [])];
}
