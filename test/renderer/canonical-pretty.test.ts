import { describe, expect, test } from 'vitest';
import { prettyCanonical } from '../../src/shared/canonical-pretty';

/** Removes whitespace outside strings: what the indenter must give back exactly. */
function squeeze(text: string): string {
  let out = '';
  let inString = false;
  let escaped = false;
  for (const ch of text) {
    if (inString) {
      out += ch;
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (!' \n\r\t'.includes(ch)) out += ch;
  }
  return out;
}

describe('prettyCanonical', () => {
  test('keeps integers of any size, floats and escapes exactly as written', () => {
    const canonical = '{"a":12345678901234567890123,"b":[1.0,-0.0,1e+16,5e-324],"c":"x\\"}{,:\\u00e9\\n","d":{}}';
    const pretty = prettyCanonical(canonical);
    expect(pretty).toContain('12345678901234567890123');
    expect(pretty).toContain('"x\\"}{,:\\u00e9\\n"');
    expect(pretty).toContain('1.0');
    expect(pretty).toContain('-0.0');
    expect(pretty).toContain('"d": {}');
    expect(squeeze(pretty)).toBe(canonical);
  });

  test('indents nested structures', () => {
    expect(prettyCanonical('{"action":"echo","payload":{"n":[1,2],"e":[]}}')).toBe(
      ['{', '  "action": "echo",', '  "payload": {', '    "n": [', '      1,', '      2', '    ],', '    "e": []', '  }', '}'].join('\n'),
    );
  });

  test('returns text that is not well bracketed unchanged', () => {
    expect(prettyCanonical('{"a":1')).toBe('{"a":1');
    expect(prettyCanonical('{"a":"unterminated}')).toBe('{"a":"unterminated}');
    expect(prettyCanonical(']')).toBe(']');
    expect(prettyCanonical('42')).toBe('42');
  });
});
