/**
 * .yo-rc.json, Yeoman's record of how a project was generated. The answers live under the
 * package's name; other generators' sections in the same file are kept as they are.
 */
import type { StoredAnswers } from './types.js';

export function storedConfigContent(existing: string | undefined, namespace: string, answers: StoredAnswers): string {
  let document: Record<string, unknown> = {};
  if (existing !== undefined) {
    try {
      const parsed: unknown = JSON.parse(existing);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
        document = parsed as Record<string, unknown>;
    } catch {
      // An unreadable .yo-rc.json was already reported when answers were read; rewrite it whole.
    }
  }
  return `${JSON.stringify({ ...document, [namespace]: answers }, null, 2)}\n`;
}
