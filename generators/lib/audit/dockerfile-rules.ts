/**
 * hadolint's and the CIS Docker Benchmark 4.x rules that apply to the backend image, over the
 * Dockerfile's text (hadolint is not packaged for Debian 12). Ids are hadolint's (DL3006, ...)
 * or the CIS recommendation's number (CIS-4.6, ...).
 */
import type { Finding } from './findings.js';

export const DOCKERFILE_PATH = 'backend/Dockerfile';

/** A comment that gives the reason an image has no HEALTHCHECK (CIS 4.6 asks for one or a reason). */
export const NO_HEALTHCHECK_REASON = /^#\s*No HEALTHCHECK:\s*\S/i;

/** Names that point at a secret rather than hold it: the `_FILE` convention of Docker secrets. */
const SECRET_REFERENCE = /_(?:FILE|PATH|DIR)$/i;
const SECRET_WORDS = new Set(['TOKEN', 'TOKENS', 'KEY', 'APIKEY', 'CREDENTIAL', 'CREDENTIALS']);

/** A name that holds a secret in ENV or ARG, where `docker history` and `docker inspect` show it. */
function isSecretName(name: string): boolean {
  if (SECRET_REFERENCE.test(name)) return false;
  return (
    /password|passwd|secret/i.test(name) || name.split(/[_.-]/).some((word) => SECRET_WORDS.has(word.toUpperCase()))
  );
}

interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  text: string;
  line: number;
}

interface Dockerfile {
  instructions: Instruction[];
  comments: { text: string; line: number }[];
}

/** Splits a Dockerfile into instructions, joining "\" continuations; comment lines inside one are dropped. */
export function parseDockerfile(source: string): Dockerfile {
  const instructions: Instruction[] = [];
  const comments: Dockerfile['comments'] = [];
  let pending: Instruction | undefined;
  source.split('\n').forEach((raw, index) => {
    let line = raw.trim();
    if (line.startsWith('#')) {
      comments.push({ text: line, line: index + 1 });
      return;
    }
    // Blank lines inside a continuation are skipped, as BuildKit does.
    if (line === '') return;
    if (pending === undefined) {
      const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
      pending = { keyword: keyword.toUpperCase(), text: '', line: index + 1 };
      line = rest;
    }
    const continues = line.endsWith('\\');
    pending.text = [pending.text, continues ? line.slice(0, -1).trim() : line].filter(Boolean).join(' ');
    if (!continues) {
      instructions.push(pending);
      pending = undefined;
    }
  });
  if (pending) instructions.push(pending);
  return { instructions, comments };
}

/** Words of an instruction, flags (--platform=..., --chown=...) removed. */
function operands(instruction: Instruction): string[] {
  return instruction.text.split(/\s+/).filter((word) => word !== '' && !word.startsWith('--'));
}

/** The instructions of the last stage: the image that ships. */
function finalStage(instructions: readonly Instruction[]): Instruction[] {
  const from = instructions.map((instruction) => instruction.keyword).lastIndexOf('FROM');
  return instructions.slice(Math.max(from, 0));
}

type Report = (id: string, line: number, message: string) => void;

function checkBaseImages(instructions: readonly Instruction[], report: Report): void {
  const stages = new Set<string>();
  for (const instruction of instructions.filter((each) => each.keyword === 'FROM')) {
    const [image = '', as, stage] = operands(instruction);
    const earlierStage = stages.has(image.toLowerCase());
    if (as?.toUpperCase() === 'AS' && stage) stages.add(stage.toLowerCase());
    // scratch, an earlier stage, a build argument or a digest: no tag to pin here.
    if (image === 'scratch' || earlierStage || image.includes('$') || image.includes('@')) continue;
    const tag = /:([^/:]+)$/.exec(image)?.[1];
    if (tag === undefined)
      report('DL3006', instruction.line, `FROM ${image}: always tag the image's version explicitly`);
    else if (tag === 'latest') report('DL3007', instruction.line, `FROM ${image}: "latest" is not a pinned version`);
  }
}

const ARCHIVE_OR_URL = /^[a-z]+:\/\/|\.(?:tar|tgz|tar\.(?:gz|bz2|xz|zst)|tbz2?|txz)$/i;

function checkAdd(instructions: readonly Instruction[], report: Report): void {
  for (const instruction of instructions.filter((each) => each.keyword === 'ADD')) {
    const sources = operands(instruction).slice(0, -1);
    if (sources.some((source) => !ARCHIVE_OR_URL.test(source))) {
      report('DL3020', instruction.line, `ADD ${instruction.text}: use COPY for files and folders`);
    }
  }
}

/** `pip install`, `pip3.11 install`, `python3 -m pip install`, options allowed before `install`. */
const PIP_INSTALL = /\bpip3?(?:\.\d+)?\s+(?:.*\s)?install\b|\bpython\S*\s+-m\s+pip\s+(?:.*\s)?install\b/;

function checkPipCache(instructions: readonly Instruction[], report: Report): void {
  // PIP_NO_CACHE_DIR set in the image turns the cache off for every pip install (hadolint accepts it).
  if (instructions.some((each) => ['ENV', 'ARG'].includes(each.keyword) && /\bPIP_NO_CACHE_DIR\b/.test(each.text)))
    return;
  for (const instruction of instructions.filter((each) => each.keyword === 'RUN')) {
    const commands = instruction.text.split(/&&|\|\||[;|]/);
    for (const command of commands) {
      if (PIP_INSTALL.test(command) && !/--no-cache-dir\b/.test(command)) {
        report(
          'DL3042',
          instruction.line,
          `RUN ${command.trim()}: pip keeps its download cache in the image; add --no-cache-dir`,
        );
      }
    }
  }
}

const ROOT_USER = /^(?:root|0)(?::|$)/;

function checkUser(stage: readonly Instruction[], report: Report, lastLine: number): void {
  const user = stage.filter((each) => each.keyword === 'USER').at(-1);
  if (user === undefined) report('CIS-4.1', lastLine, 'no USER: the container runs as root');
  else if (ROOT_USER.test(user.text.trim()))
    report('DL3002', user.line, `USER ${user.text}: the last USER should not be root`);
}

function checkHealthcheck(
  stage: readonly Instruction[],
  dockerfile: Dockerfile,
  report: Report,
  lastLine: number,
): void {
  const healthcheck = stage.filter((each) => each.keyword === 'HEALTHCHECK').at(-1);
  if (healthcheck !== undefined && !/^NONE\b/i.test(healthcheck.text)) return;
  if (dockerfile.comments.some((comment) => NO_HEALTHCHECK_REASON.test(comment.text))) return;
  report(
    'CIS-4.6',
    healthcheck?.line ?? lastLine,
    'no HEALTHCHECK, and no "# No HEALTHCHECK: <reason>" comment giving why',
  );
}

/** ENV a=b c=d, ENV a b (legacy), ARG a[=b]: the names. */
function declaredNames(instruction: Instruction): string[] {
  if (instruction.keyword === 'ENV' && !/^[^\s=]+=/.test(instruction.text))
    return [instruction.text.split(/\s+/)[0] ?? ''];
  return [...instruction.text.matchAll(/(?:^|\s)([A-Za-z_][\w.-]*)(?==|\s|$)/g)].map((match) => match[1]!);
}

function checkSecrets(instructions: readonly Instruction[], report: Report): void {
  for (const instruction of instructions.filter((each) => each.keyword === 'ENV' || each.keyword === 'ARG')) {
    // Drop quoted values first, so a value's words are not read as names.
    const unquoted = { ...instruction, text: instruction.text.replace(/=("[^"]*"|'[^']*'|\S*)/g, '=') };
    for (const name of declaredNames(unquoted)) {
      if (isSecretName(name)) {
        const where = instruction.keyword;
        report('CIS-4.10', instruction.line, `${where} ${name}: a secret in ${where} stays in the image's history`);
      }
    }
  }
}

/** Findings of every rule on one Dockerfile; `path` names it in each finding's location. */
export function auditDockerfile(source: string, path = DOCKERFILE_PATH): Finding[] {
  const dockerfile = parseDockerfile(source);
  const { instructions } = dockerfile;
  const findings: Finding[] = [];
  const report: Report = (id, line, message) => {
    findings.push({ scanner: 'dockerfile-rules', id, location: `${path}:${line}`, message });
  };
  const stage = finalStage(instructions);
  const lastLine = instructions.at(-1)?.line ?? 1;
  checkBaseImages(instructions, report);
  checkAdd(instructions, report);
  checkPipCache(instructions, report);
  checkUser(stage, report, lastLine);
  checkHealthcheck(stage, dockerfile, report, lastLine);
  checkSecrets(instructions, report);
  return findings;
}
