/**
 * The line that tells a reader a file belongs to the generator (projen's PROJEN_MARKER is the
 * model): one text, written in each file's own comment syntax. Files the user owns (written once)
 * carry none.
 */
export const GENERATED_MARKER =
  'Managed by generator-secure-stack: re-running the generator updates this file and keeps your edits.';

/** The marker as a comment line, by syntax; JSON has no comments and takes `text` in a description. */
export const MARKER = {
  text: GENERATED_MARKER,
  /** YAML, nginx, Python, shell, Dockerfile, .gitignore, .gitattributes, requirements.txt. */
  hash: `# ${GENERATED_MARKER}`,
  sql: `-- ${GENERATED_MARKER}`,
  /** Markdown. */
  html: `<!-- ${GENERATED_MARKER} -->`,
} as const;
