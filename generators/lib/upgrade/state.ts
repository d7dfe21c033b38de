/**
 * What the generator remembers in the generated repository, under .secure-stack/ (committed,
 * never a secret): the version that last rendered it, which files it wrote and who owns them,
 * and a pristine copy of each generated file as last rendered — the base of the next merge.
 */
import type { Owner } from '../render.js';

export const STATE_DIRECTORY = '.secure-stack';
export const STATE_FILE = `${STATE_DIRECTORY}/state.json`;
/** Copies carry a suffix so no tool mistakes them for live files (a copied .gitignore would act). */
export const BASE_SUFFIX = '.base';

export interface GeneratorState {
  generatorVersion: string;
  /** Every file the generator has written, by path, with its owner. */
  files: Record<string, Owner>;
}

export function basePath(path: string): string {
  return `${STATE_DIRECTORY}/rendered/${path}${BASE_SUFFIX}`;
}

export function parseState(text: string | undefined): GeneratorState | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<GeneratorState>;
    if (typeof parsed.generatorVersion !== 'string' || typeof parsed.files !== 'object' || parsed.files === null)
      return undefined;
    return { generatorVersion: parsed.generatorVersion, files: { ...parsed.files } };
  } catch {
    return undefined;
  }
}

export function serialiseState(state: GeneratorState): string {
  // Code-unit order, not localeCompare: the same bytes under every locale (CI and laptops agree),
  // and no ICU collator to load on every run.
  const files = Object.fromEntries(Object.entries(state.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ $comment: 'Written by generator-secure-stack for upgrades; commit it, do not edit it.', generatorVersion: state.generatorVersion, files }, null, 2)}\n`;
}
