/**
 * Finds every module specifier a TypeScript file names: `import … from`, `import '…'`,
 * `export … from`, `import('…')` (also in type positions) and `require('…')`.
 *
 * A small tokenizer rather than a regex over the text, so that comments, strings, template
 * literals and regular expressions that merely contain `import … from '…'` are not mistaken for
 * imports. It is not a full parser: it knows just enough of the lexical grammar for that.
 */

type Token = { kind: 'word' | 'punct'; text: string } | { kind: 'string'; text: string };

export interface ImportSite {
  specifier: string;
  line: number;
}

const WORD = /[A-Za-z0-9_$]/;
// After one of these, `/` starts a regular expression rather than dividing.
const KEYWORDS_BEFORE_EXPRESSION = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

interface Positioned {
  token: Token;
  line: number;
}

function tokenize(source: string): Positioned[] {
  const out: Positioned[] = [];
  let i = 0;
  let line = 1;
  // Open `${` of template literals, and the brace depth inside each one.
  const templateDepths: number[] = [];

  const regexAllowed = (): boolean => {
    const prev = out.at(-1)?.token;
    if (prev === undefined) return true;
    if (prev.kind === 'string') return false;
    if (prev.kind === 'word') return KEYWORDS_BEFORE_EXPRESSION.has(prev.text);
    return !(prev.text === ')' || prev.text === ']' || prev.text === '}');
  };

  const readTemplate = (): void => {
    // i is just after a backtick or a `}` closing a substitution; reads up to the next
    // backtick (template ends) or `${` (a substitution starts).
    while (i < source.length) {
      const c = source[i]!;
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === '\n') line++;
      if (c === '`') {
        i++;
        out.push({ token: { kind: 'string', text: '' }, line });
        return;
      }
      if (c === '$' && source[i + 1] === '{') {
        i += 2;
        templateDepths.push(0);
        return;
      }
      i++;
    }
  };

  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      for (let k = i; k < stop; k++) if (source[k] === '\n') line++;
      i = stop;
    } else if (c === '"' || c === "'") {
      const start = line;
      let text = '';
      i++;
      while (i < source.length && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\') {
          text += source[i + 1] ?? '';
          i += 2;
        } else {
          text += source[i];
          i++;
        }
      }
      i++;
      out.push({ token: { kind: 'string', text }, line: start });
    } else if (c === '`') {
      i++;
      readTemplate();
    } else if (c === '}' && templateDepths.length > 0 && templateDepths.at(-1) === 0) {
      templateDepths.pop();
      i++;
      readTemplate();
    } else if (c === '/' && regexAllowed()) {
      let inClass = false;
      i++;
      while (i < source.length && source[i] !== '\n') {
        const r = source[i]!;
        if (r === '\\') i++;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < source.length && WORD.test(source[i]!)) i++;
      out.push({ token: { kind: 'string', text: '' }, line });
    } else if (WORD.test(c)) {
      let text = '';
      while (i < source.length && WORD.test(source[i]!)) text += source[i++];
      out.push({ token: { kind: 'word', text }, line });
    } else {
      if (templateDepths.length > 0) {
        if (c === '{') templateDepths[templateDepths.length - 1]!++;
        if (c === '}') templateDepths[templateDepths.length - 1]!--;
      }
      out.push({ token: { kind: 'punct', text: c }, line });
      i++;
    }
  }
  return out;
}

// What may stand between `import`/`export` and `from` in a declaration.
const CLAUSE_WORDS = /^[A-Za-z0-9_$]+$/;
const CLAUSE_PUNCT = new Set(['{', '}', ',', '*']);

/** Every module specifier in `source`, with the line it is on. */
export function scanImports(source: string): ImportSite[] {
  const tokens = tokenize(source);
  const found: ImportSite[] = [];
  const at = (k: number): Token | undefined => tokens[k]?.token;
  for (let k = 0; k < tokens.length; k++) {
    const t = at(k)!;
    if (t.kind !== 'word') continue;
    // A property such as `x.import(...)` or `obj.require` is not the keyword.
    const before = at(k - 1);
    if (before?.kind === 'punct' && before.text === '.') continue;
    const next = at(k + 1);
    const line = tokens[k]!.line;
    if ((t.text === 'import' || t.text === 'require') && next?.kind === 'punct' && next.text === '(') {
      const arg = at(k + 2);
      if (arg?.kind === 'string') found.push({ specifier: arg.text, line });
      continue;
    }
    if (t.text === 'import' && next?.kind === 'string') {
      found.push({ specifier: next.text, line });
      continue;
    }
    if (t.text !== 'import' && t.text !== 'export') continue;
    // `import a, { b as c } from 'x'`, `export * as ns from 'x'`, `import type { T } from 'x'`.
    let j = k + 1;
    let braces = 0;
    while (j < tokens.length) {
      const u = at(j)!;
      // Inside braces `from` is just a name: `import { from } from 'x'`.
      if (u.kind === 'word' && u.text === 'from' && braces === 0) break;
      if (u.kind === 'word' && CLAUSE_WORDS.test(u.text)) j++;
      else if (u.kind === 'punct' && CLAUSE_PUNCT.has(u.text)) {
        if (u.text === '{') braces++;
        if (u.text === '}') braces--;
        j++;
      } else break;
    }
    const from = at(j);
    const spec = at(j + 1);
    if (j > k + 1 && from?.kind === 'word' && from.text === 'from' && spec?.kind === 'string') {
      found.push({ specifier: spec.text, line });
    }
  }
  return found;
}
