/** Flat answer keys ("memory.nginx") and the nested answers object they stand for. */
import { FIELD_LIST } from './fields.js';
import type { FlatAnswers } from './field.js';
import type { Answers } from './types.js';

/** The value at a dotted answer key ("memory.nginx") of a nested answers object. */
export function valueAt(answers: object, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], answers);
}

/** Nests flat answers by their dotted keys: { "memory.nginx": x } becomes { memory: { nginx: x } }. */
export function nestByKey(flat: Record<string, unknown>): Record<string, unknown> {
  const nested: Record<string, unknown> = {};
  for (const field of FIELD_LIST) {
    const [parent, child] = field.key.split('.') as [string, string | undefined];
    if (child === undefined) nested[parent] = flat[field.key];
    else
      nested[parent] = { ...((nested[parent] as Record<string, unknown> | undefined) ?? {}), [child]: flat[field.key] };
  }
  return nested;
}

export function toAnswers(flat: FlatAnswers): Answers {
  return nestByKey(flat as unknown as Record<string, unknown>) as unknown as Answers;
}
