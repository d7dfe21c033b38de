/**
 * Turns the answer sources into one validated Answers value. Precedence, highest first:
 * CLI flags, the --answers file, the stored .yo-rc.json, prompts, defaults.
 * All problems of all supplied values are reported at once.
 */
import { InvalidAnswersError, type AnswerProblem } from '../errors.js';
import { crossFieldProblems } from './cross-field.js';
import type { FieldKey, FlatAnswers, Origin } from './field.js';
import { FIELD_LIST } from './fields.js';
import { nestByKey, toAnswers, valueAt } from './nesting.js';
import type { Answers, StoredAnswers } from './types.js';

export interface RawSource {
  /** Shown in error messages: "--answers answers.yaml", ".yo-rc.json", "command line". */
  name: string;
  origin: Origin;
  values: Map<FieldKey, unknown>;
}

export type SuppliedAnswers = Partial<FlatAnswers>;

const KNOWN_KEYS = new Set<string>(FIELD_LIST.map((field) => field.key));
const NESTED_PARENTS = new Set(FIELD_LIST.filter((f) => f.key.includes('.')).map((f) => f.key.split('.')[0]!));

/** Flattens an answers document ({ memory: { nginx } } → "memory.nginx"), reporting unknown keys. */
export function flattenDocument(document: unknown, name: string, problems: AnswerProblem[]): RawSource {
  const values = new Map<FieldKey, unknown>();
  if (document === null || document === undefined) return { name, origin: 'file', values };
  if (!isPlainObject(document)) {
    problems.push({ field: '(root)', value: document, rule: `of ${name} must be a mapping of answer keys to values` });
    return { name, origin: 'file', values };
  }
  for (const [key, value] of Object.entries(document)) {
    if (NESTED_PARENTS.has(key)) {
      if (!isPlainObject(value)) {
        // The example in the parent's own terms: a memory size, or a number of CPUs.
        const example = key === 'cpus' ? '{ "nginx": 0.5 }' : '{ "nginx": "64m" }';
        problems.push({ field: key, value, rule: `in ${name} must be a mapping (e.g. ${example})` });
        continue;
      }
      for (const [subKey, subValue] of Object.entries(value)) {
        const dotted = `${key}.${subKey}`;
        if (KNOWN_KEYS.has(dotted)) values.set(dotted as FieldKey, subValue);
        else
          problems.push({
            field: dotted,
            value: subValue,
            rule: `is not a known answer in ${name} (known: ${[...KNOWN_KEYS].join(', ')})`,
          });
      }
    } else if (KNOWN_KEYS.has(key) && !key.includes('.')) {
      values.set(key as FieldKey, value);
    } else {
      problems.push({
        field: key,
        value,
        rule: `is not a known answer in ${name} (known: ${[...KNOWN_KEYS].join(', ')})`,
      });
    }
  }
  return { name, origin: 'file', values };
}

/** Validates every supplied value; the first source holding a key wins. Throws with all problems. */
export function validateSupplied(
  sources: readonly RawSource[],
  earlierProblems: AnswerProblem[] = [],
): SuppliedAnswers {
  const problems = [...earlierProblems];
  const supplied: Record<string, unknown> = {};
  for (const field of FIELD_LIST) {
    const source = sources.find((s) => s.values.has(field.key as FieldKey));
    if (!source) continue;
    const parsed = field.parse(source.values.get(field.key as FieldKey), source.origin);
    if (parsed.ok) supplied[field.key] = parsed.value;
    else
      problems.push({
        field: field.key,
        value: source.values.get(field.key as FieldKey),
        rule: `${parsed.rule} (from ${source.name})`,
      });
  }
  if (problems.length > 0) throw new InvalidAnswersError(problems);
  return supplied as SuppliedAnswers;
}

export interface Resolution {
  answers: Answers;
  /** Keys that took their default because nobody supplied them. */
  defaulted: FieldKey[];
}

/** Fills what is still missing with defaults, in declaration order (later defaults see earlier answers). */
export function completeWithDefaults(supplied: SuppliedAnswers, destinationName: string): Resolution {
  const resolved: Record<string, unknown> = { ...supplied };
  const defaulted: FieldKey[] = [];
  for (const field of FIELD_LIST) {
    if (field.key in resolved) continue;
    resolved[field.key] = field.defaultValue({ destinationName, resolved: resolved as SuppliedAnswers });
    defaulted.push(field.key as FieldKey);
  }
  const problems = crossFieldProblems(resolved as unknown as FlatAnswers);
  if (problems.length > 0) throw new InvalidAnswersError(problems);
  return { answers: toAnswers(resolved as unknown as FlatAnswers), defaulted };
}

/** The answers as stored in .yo-rc.json and written in answers files: nested, JSON-serialisable. */
export function serialiseAnswers(answers: Answers): StoredAnswers {
  const flat = Object.fromEntries(FIELD_LIST.map((field) => [field.key, field.serialise(valueAt(answers, field.key))]));
  return nestByKey(flat) as StoredAnswers;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
