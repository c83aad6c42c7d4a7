/**
 * Indents JSON text for reading without parsing it into JavaScript values, so integers of any
 * size, float spellings and string escapes are shown exactly as they are in the canonical text.
 * Only whitespace is added: removing every space and newline outside strings gives the input back.
 * Text that is not well-bracketed JSON is returned unchanged.
 */
export function prettyCanonical(text: string, indent = '  '): string {
  let out = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  const newline = (): string => '\n' + indent.repeat(depth);
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (inString) {
      out += ch;
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    switch (ch) {
      case '"':
        inString = true;
        out += ch;
        break;
      case '{':
      case '[': {
        const close = ch === '{' ? '}' : ']';
        const nextIndex = skipSpace(text, i + 1);
        if (text.charAt(nextIndex) === close) {
          out += ch + close;
          i = nextIndex;
        } else {
          depth++;
          out += ch + newline();
        }
        break;
      }
      case '}':
      case ']':
        depth--;
        if (depth < 0) return text;
        out += newline() + ch;
        break;
      case ',':
        out += ',' + newline();
        break;
      case ':':
        out += ': ';
        break;
      case ' ':
      case '\n':
      case '\r':
      case '\t':
        break;
      default:
        out += ch;
    }
  }
  return depth === 0 && !inString ? out : text;
}

function skipSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && ' \n\r\t'.includes(text.charAt(i))) i++;
  return i;
}
