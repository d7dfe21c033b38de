/** What one answer is: its declaration's shape, the result of parsing it, and the flat answer keys. */
import type { MemorySize } from './memory-size.js';
import type { Answers, BudgetedService, JsonValue } from './types.js';

export type Parsed<V> = { ok: true; value: V } | { ok: false; rule: string };
/** Where a raw value came from: files hold typed JSON/YAML values, flags hold strings. */
export type Origin = 'file' | 'flag';

export interface DefaultContext {
  /** Base name of the destination directory. */
  destinationName: string;
  /** Answers resolved so far (fields are resolved in declaration order). */
  resolved: Partial<FlatAnswers>;
}

export type PromptKind = 'input' | 'confirm';

export interface Field<V> {
  /** Public answers-file key; a dot nests it (`memory.nginx` is `{ "memory": { "nginx": … } }`). */
  readonly key: string;
  /** CLI flag name without the leading dashes. */
  readonly flag: string;
  readonly flagType: 'string' | 'boolean';
  readonly description: string;
  readonly prompt: PromptKind;
  /** Human summary of the default, for help text and the README. */
  readonly defaultText: string;
  parse(raw: unknown, origin: Origin): Parsed<V>;
  defaultValue(context: DefaultContext): V;
  /** JSON form for the answers file and `.yo-rc.json`; parse(serialise(v), 'file') gives v back. */
  serialise(value: V): JsonValue;
  /** Asked interactively only when this holds; otherwise it takes its default silently. */
  askedWhen?(resolved: Partial<FlatAnswers>): boolean;
}

/**
 * Answers keyed as the fields are: the nested budgets flattened to their dotted public keys
 * ("memory.nginx"), everything else as in Answers.
 */
export type FlatAnswers = Omit<Answers, 'memory' | 'cpus'> & {
  [Service in BudgetedService as `memory.${Service}`]: MemorySize;
} & {
  [Service in BudgetedService as `cpus.${Service}`]: number | null;
};
export type FieldKey = keyof FlatAnswers;
