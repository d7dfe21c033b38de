/**
 * Renders the stack model through the EJS templates into file contents, in memory. Pure: the
 * generator, the drift check and the property tests all call this one function.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ejs from 'ejs';
import type { StackModel } from './stack/stack-model.js';
import { securityMeasures } from './stack/security-measures.js';
import { MARKER } from './generated-marker.js';
import { PACKAGE_ROOT } from './package-info.js';

/** The EJS templates, shipped at the package's root beside dist/. */
export const TEMPLATES_ROOT = join(PACKAGE_ROOT, 'templates/');

export type Owner = 'generator' | 'user';

export interface TemplateFile {
  /** Path under templates/ (without .ejs). Names starting with "_" become dotfiles. */
  template: string;
  /** Path in the generated repository. */
  destination: string;
  owner: Owner;
  /** Rendered only when this holds for the model. */
  when?: (model: StackModel) => boolean;
  /** Template values that differ from the model's for this file (one template, two renders). */
  locals?: (model: StackModel) => Partial<StackModel>;
}

export interface RenderedFile {
  path: string;
  content: string;
  owner: Owner;
}

const templateCache = new Map<string, ejs.TemplateFunction>();

function compiled(template: string): ejs.TemplateFunction {
  let render = templateCache.get(template);
  if (!render) {
    const filename = `${TEMPLATES_ROOT}${template}.ejs`;
    // Values reach templates validated and are printed with <%- : <%= would HTML-escape them.
    // compileDebug off: no line bookkeeping in the compiled code, which costs a fresh run a few
    // milliseconds to compile; an error inside a template then names no template line.
    render = ejs.compile(readFileSync(filename, 'utf8'), { filename, compileDebug: false });
    templateCache.set(template, render);
  }
  return render;
}

/** Quotes a validated value as a YAML/JSON/Python string literal. */
const q = (value: string | number): string => JSON.stringify(String(value));

export function renderStack(model: StackModel, files: readonly TemplateFile[]): RenderedFile[] {
  const locals = { ...model, securityMeasures: securityMeasures(model), q, marker: MARKER };
  return files
    .filter((file) => file.when?.(model) ?? true)
    .map((file) => ({
      path: file.destination,
      content: compiled(file.template)(file.locals ? { ...locals, ...file.locals(model) } : locals) as string,
      owner: file.owner,
    }));
}
