import { describe, expect, test } from 'vitest';
import { canonicalJson } from '../../src/main/core/json/canonical';
import { decodeUtf8Strict, JsonParseError, parseJson } from '../../src/main/core/json/parse';
import type { JsonParseErrorCode } from '../../src/main/core/json/parse';

function parseError(text: string, options?: { maxDepth?: number }): JsonParseError {
  try {
    parseJson(text, options);
  } catch (e) {
    if (e instanceof JsonParseError) return e;
    throw new Error(`expected JsonParseError, got ${String(e)}`);
  }
  throw new Error(`expected ${JSON.stringify(text.slice(0, 60))} to be refused`);
}

describe('parseJson values', () => {
  test('integers are exact bigints, -0 is 0n', () => {
    expect(parseJson('0')).toBe(0n);
    expect(parseJson('-0')).toBe(0n);
    expect(parseJson('-17')).toBe(-17n);
    const forty = '1234567890123456789012345678901234567890';
    expect(parseJson(forty)).toBe(1234567890123456789012345678901234567890n);
    expect(parseJson(`-${forty}`)).toBe(-1234567890123456789012345678901234567890n);
    expect(canonicalJson(parseJson(`[${forty}]`))).toBe(`[${forty}]`);
  });

  test('numbers with a fraction or exponent are doubles', () => {
    expect(parseJson('1.0')).toBe(1);
    expect(typeof parseJson('1.0')).toBe('number');
    expect(parseJson('1e2')).toBe(100);
    expect(parseJson('1E+2')).toBe(100);
    expect(parseJson('-2.5e-3')).toBe(-0.0025);
    expect(Object.is(parseJson('-0.0'), -0)).toBe(true);
    expect(parseJson('1e-400')).toBe(0);
    expect(parseJson('9007199254740993.0')).toBe(9007199254740992);
  });

  test('literals, strings, escapes', () => {
    expect(parseJson('[true,false,null]')).toEqual([true, false, null]);
    expect(parseJson('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"')).toBe('a"b\\c/d\b\f\n\r\t');
    expect(parseJson('"\\u00e9\\u4E2D"')).toBe('é中');
    expect(parseJson('"\\ud83d\\ude00"')).toBe('😀');
    expect(parseJson('"grin 😀"')).toBe('grin 😀');
  });

  test('lone surrogates from escapes are kept as they are', () => {
    const s = parseJson('"\\ud800x\\udc00"');
    expect(s).toBe('\ud800x\udc00');
    expect(typeof s === 'string' && s.length).toBe(3);
  });

  test('surrounding JSON whitespace is allowed', () => {
    expect(parseJson(' \t\r\n{ "a" : [ 1 , 2 ] }\n ')).toEqual(Object.assign(Object.create(null), { a: [1n, 2n] }));
  });

  test('duplicate keys: the last one wins, in a null-prototype object', () => {
    const v = parseJson('{"a":1,"b":2,"a":3}');
    expect(Object.getPrototypeOf(v)).toBe(null);
    expect(canonicalJson(v)).toBe('{"a":3,"b":2}');
  });

  test('__proto__ and constructor are ordinary keys', () => {
    const v = parseJson('{"__proto__":{"polluted":true},"constructor":1}');
    expect(Object.keys(v as object)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(canonicalJson(v)).toBe('{"__proto__":{"polluted":true},"constructor":1}');
  });
});

describe('parseJson refusals', () => {
  const cases: Array<[string, string, JsonParseErrorCode]> = [
    ['NaN', 'NaN', 'invalid_json'],
    ['Infinity', 'Infinity', 'invalid_json'],
    ['-Infinity', '-Infinity', 'invalid_json'],
    ['NaN in array', '[1,NaN]', 'invalid_json'],
    ['overflowing double', '1e400', 'number_out_of_range'],
    ['overflowing negative double', '[-1.5e309]', 'number_out_of_range'],
    ['leading zero', '01', 'invalid_json'],
    ['leading zero after minus', '-01', 'invalid_json'],
    ['bare minus', '-', 'invalid_json'],
    ['dot without digits', '1.', 'invalid_json'],
    ['leading dot', '.5', 'invalid_json'],
    ['exponent without digits', '1e+', 'invalid_json'],
    ['plus sign', '+1', 'invalid_json'],
    ['trailing comma in array', '[1,2,]', 'invalid_json'],
    ['trailing comma in object', '{"a":1,}', 'invalid_json'],
    ['unterminated string', '"abc', 'invalid_json'],
    ['unterminated string after escape', '"abc\\n', 'invalid_json'],
    ['raw newline in string', '"a\nb"', 'invalid_json'],
    ['raw NUL in string', '"a\u0000b"', 'invalid_json'],
    ['invalid escape', '"\\x41"', 'invalid_json'],
    ['short unicode escape', '"\\u12"', 'invalid_json'],
    ['non-hex unicode escape', '"\\u12g4"', 'invalid_json'],
    ['byte order mark', '\ufeff{}', 'invalid_json'],
    ['trailing garbage', '{} x', 'invalid_json'],
    ['two values', '1 2', 'invalid_json'],
    ['single quotes', "{'a':1}", 'invalid_json'],
    ['unquoted key', '{a:1}', 'invalid_json'],
    ['empty text', '', 'invalid_json'],
    ['only whitespace', ' \n', 'invalid_json'],
    ['non-JSON whitespace', '\u00a0{}', 'invalid_json'],
    ['form feed is not whitespace', '\f{}', 'invalid_json'],
    ['capitalised literal', 'True', 'invalid_json'],
    ['truncated literal', 'nul', 'invalid_json'],
    ['unclosed array', '[1,2', 'invalid_json'],
    ['unclosed object', '{"a":1', 'invalid_json'],
    ['missing colon', '{"a" 1}', 'invalid_json'],
    ['integer longer than Python accepts', '9'.repeat(4301), 'number_out_of_range'],
  ];
  test.each(cases)('%s', (_name, text, code) => {
    expect(parseError(text).code).toBe(code);
  });

  test('messages name the position and what was expected', () => {
    const e = parseError('{"a":1 "b":2}');
    expect(e.position).toBe(7);
    expect(e.message).toBe(`Invalid JSON at position 7: expected ',' or '}', got '"'`);
    expect(e).toBeInstanceOf(Error);
    expect(parseError('[1,2,]').message).toBe("Invalid JSON at position 5: expected a JSON value, got ']'");
    expect(parseError('"a\nb"').message).toBe('Invalid JSON at position 2: invalid control character U+000A in string');
    expect(parseError('"abc').message).toBe('Invalid JSON at position 4: unterminated string');
    expect(parseError('1e400').message).toBe('Invalid JSON at position 0: number 1e400 does not fit in a double');
    expect(parseError('["\\x"]').message).toBe("Invalid JSON at position 2: invalid escape: backslash followed by 'x'");
  });

  test('an integer of 4300 digits is still exact', () => {
    const digits = '7'.repeat(4300);
    expect(canonicalJson(parseJson(digits))).toBe(digits);
  });

  test('depth: 512 levels parse, 513 do not, 10000 fail cleanly', () => {
    const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(() => parseJson(nest(512))).not.toThrow();
    expect(parseError(nest(513)).code).toBe('too_deep');
    expect(parseError(nest(10000)).code).toBe('too_deep');
    expect(parseError('{"a":'.repeat(10000)).code).toBe('too_deep');
    expect(parseError(nest(3), { maxDepth: 2 }).code).toBe('too_deep');
    expect(() => parseJson(nest(2), { maxDepth: 2 })).not.toThrow();
  });
});

describe('decodeUtf8Strict', () => {
  const bytes = (...b: number[]) => new Uint8Array(b);

  test('decodes UTF-8 and keeps a BOM for the parser to refuse', () => {
    expect(decodeUtf8Strict(new TextEncoder().encode('{"m":"é😀"}'))).toBe('{"m":"é😀"}');
    const withBom = decodeUtf8Strict(bytes(0xef, 0xbb, 0xbf, 0x7b, 0x7d));
    expect(withBom).toBe('\ufeff{}');
    expect(parseError(withBom).code).toBe('invalid_json');
  });

  test.each([
    ['invalid byte', [0x22, 0xff, 0x22]],
    ['overlong encoding', [0x22, 0xc0, 0xaf, 0x22]],
    ['encoded surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ['truncated sequence', [0x22, 0xe4, 0xb8]],
    ['lone continuation byte', [0x80]],
  ])('refuses %s', (_name, b) => {
    let err: unknown;
    try {
      decodeUtf8Strict(bytes(...b));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JsonParseError);
    expect((err as JsonParseError).code).toBe('invalid_json');
    expect((err as JsonParseError).message).toBe('Request body is not valid UTF-8');
  });
});

describe('large input', () => {
  // How fast is a benchmark's question (npm run bench), not a test's: this checks the result.
  test('a 1 MiB body parses and canonicalises whole', () => {
    const items: string[] = [];
    let size = 0;
    for (let i = 0; size < 1 << 20; i++) {
      const item = `{"id":${i},"name":"item \\u00e9 ${i}","score":${i}.25,"tags":["a","b\\n"],"ok":true}`;
      items.push(item);
      size += item.length + 1;
    }
    const text = `{"items":[${items.join(',')}]}`;
    const out = canonicalJson(parseJson(text));
    expect(out.startsWith('{"items":[{"id":0,"name":"item \\u00e9 0","ok":true,"score":0.25,"tags":["a","b\\n"]}')).toBe(true);
    expect(out.length).toBeGreaterThan(1 << 20);
  });
});
