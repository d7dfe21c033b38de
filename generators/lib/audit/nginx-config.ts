/**
 * A small parser of nginx configuration text into directives and blocks, enough for the audit's
 * rules to walk the tree as gixy does. It follows nginx's own tokenizer (ngx_conf_read_token):
 * words end at whitespace, `;`, `{` or `}`; quotes group a word; `#` starts a comment only where
 * a word could start; a backslash escapes the next character. `include` is not followed.
 */

export interface NginxDirective {
  name: string;
  /** Arguments with quotes removed and escapes resolved, as nginx reads them. */
  args: string[];
  /** Line of the directive's name, from 1. */
  line: number;
  /** Present on blocks (`http { ... }`), absent on simple directives. */
  children?: NginxDirective[];
}

export class NginxSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`${message} at line ${line}`);
    this.name = 'NginxSyntaxError';
  }
}

type Token = { kind: 'word'; text: string; line: number } | { kind: '{' | '}' | ';'; line: number };

const ESCAPES: Record<string, string> = { t: '\t', r: '\r', n: '\n' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let index = 0;
  const next = (): string => {
    const character = text[index++]!;
    if (character === '\n') line++;
    return character;
  };
  while (index < text.length) {
    const character = text[index]!;
    if (/\s/.test(character)) {
      next();
    } else if (character === '#') {
      while (index < text.length && text[index] !== '\n') next();
    } else if (character === '{' || character === '}' || character === ';') {
      tokens.push({ kind: character, line });
      next();
    } else {
      tokens.push(readWord());
    }
  }
  return tokens;

  function readWord(): Token {
    const start = line;
    const quote = text[index] === '"' || text[index] === "'" ? next() : undefined;
    let word = '';
    while (index < text.length) {
      const character = text[index]!;
      // `${name}` is a variable, not a block: nginx keeps the braces in the word after a `$`.
      if (character === '{' && word.endsWith('$')) {
        const end = text.indexOf('}', index);
        if (end === -1) throw new NginxSyntaxError('unterminated "${"', line);
        while (index <= end) word += next();
        continue;
      }
      if (quote === undefined && (/\s/.test(character) || character === ';' || character === '{' || character === '}'))
        break;
      next();
      if (character === quote) return { kind: 'word', text: word, line: start };
      if (character === '\\' && index < text.length) {
        const escaped = next();
        word += ESCAPES[escaped] ?? (escaped === '"' || escaped === "'" || escaped === '\\' ? escaped : `\\${escaped}`);
      } else {
        word += character;
      }
    }
    if (quote !== undefined) throw new NginxSyntaxError(`unterminated ${quote} string`, start);
    return { kind: 'word', text: word, line: start };
  }
}

/** Parses a whole nginx configuration file into its top-level directives. */
export function parseNginxConfig(text: string): NginxDirective[] {
  const tokens = tokenize(text);
  let position = 0;

  function parseBlock(closing: number | undefined): NginxDirective[] {
    const directives: NginxDirective[] = [];
    while (position < tokens.length) {
      const token = tokens[position++]!;
      if (token.kind === '}') {
        if (closing === undefined) throw new NginxSyntaxError('unexpected "}"', token.line);
        return directives;
      }
      if (token.kind !== 'word') throw new NginxSyntaxError(`unexpected "${token.kind}"`, token.line);
      const directive: NginxDirective = { name: token.text, args: [], line: token.line };
      for (;;) {
        const argument = tokens[position++];
        if (argument === undefined) throw new NginxSyntaxError(`"${token.text}" is not terminated by ";"`, token.line);
        if (argument.kind === 'word') directive.args.push(argument.text);
        else if (argument.kind === ';') break;
        else if (argument.kind === '{') {
          directive.children = parseBlock(token.line);
          break;
        } else throw new NginxSyntaxError('unexpected "}"', argument.line);
      }
      directives.push(directive);
    }
    if (closing !== undefined) throw new NginxSyntaxError('block is not closed by "}"', closing);
    return directives;
  }

  return parseBlock(undefined);
}
