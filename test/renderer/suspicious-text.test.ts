import { describe, expect, test } from 'vitest';
import { diffCanonical, leaves, parseCanonical, readableJsonString } from '../../src/shared/canonical-tree.ts';
import { keyFields, proposalFindings } from '../../src/shared/proposal-summary.ts';
import { findSuspicious, mixedScripts, revealPlain, segmentText } from '../../src/shared/suspicious-text.ts';
import { canonicalJson } from '../../src/main/core/json/canonical.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';

const canon = (text: string) => canonicalJson(parseJson(text));

describe('characters that hide or disguise text', () => {
  test('a bidi override becomes a mark, so fdp.exe cannot read as exe.pdf', () => {
    const segments = segmentText('invoice\u202Efdp.exe');
    expect(segments).toEqual([
      { kind: 'text', text: 'invoice' },
      { kind: 'bidi', text: 'RLO', label: expect.stringMatching(/U\+202E/) },
      { kind: 'text', text: 'fdp.exe' },
    ]);
    expect(segments.some((s) => s.text.includes('\u202E'))).toBe(false);
    expect(revealPlain('invoice\u202Efdp.exe')).toBe('invoice[RLO]fdp.exe');
  });

  test('zero-width and other invisible characters are marked; ordinary accents are not', () => {
    expect(findSuspicious('a\u200Bb\u200Dc\uFEFF\u00AD')).toEqual([
      { kind: 'invisible', text: 'ZWSP' },
      { kind: 'invisible', text: 'ZWJ' },
      { kind: 'invisible', text: 'BOM' },
      { kind: 'invisible', text: 'SHY' },
    ]);
    expect(findSuspicious('Zürich, Ελλάδα, Москва, 東京')).toEqual([]);
  });

  test('a word mixing Latin and Cyrillic (or Greek) is flagged; single-script words are not', () => {
    expect(mixedScripts('p\u0430ypal')).toEqual(['Latin', 'Cyrillic']);
    expect(mixedScripts('\u03bfpenai')).toEqual(['Greek', 'Latin']);
    expect(mixedScripts('paypal')).toBeNull();
    expect(mixedScripts('привет')).toBeNull();
    expect(findSuspicious('send to p\u0430ypal.com now')).toEqual([{ kind: 'mixed', text: 'p\u0430ypal' }]);
  });

  test('a proposal is checked in its action, payload keys and strings, and context', () => {
    const findings = proposalFindings({
      action: 'echo',
      payloadCanonical: canon('{"fil\\u200be":"a\\u202eb","to":"p\\u0430ypal.com"}'),
      context: 'fine',
    });
    expect(findings.payload.map((f) => f.kind).sort()).toEqual(['bidi', 'invisible', 'mixed']);
    expect(findings.context).toEqual([]);
  });
});

describe('canonical JSON laid out for reading', () => {
  test('non-ASCII escapes read as text; quotes, control characters and lone surrogates stay escaped', () => {
    expect(readableJsonString('"Z\\u00fcrich \\ud83d\\ude00"')).toBe('"Zürich 😀"');
    expect(readableJsonString('"a\\"b\\\\u00fc\\n\\u0007\\ud800x"')).toBe('"a\\"b\\\\u00fc\\n\\u0007\\ud800x"');
  });

  test('the tree keeps every number exactly as written', () => {
    const text = canon('{"big":123456789012345678901234567890,"f":1.5,"list":[1,{"x":null}],"empty":{}}');
    expect(Object.fromEntries(leaves(parseCanonical(text)!))).toEqual({
      big: '123456789012345678901234567890',
      empty: '{}',
      f: '1.5',
      'list[0]': '1',
      'list[1].x': 'null',
    });
    expect(parseCanonical('{"a":1')).toBeNull();
  });

  test('the field-level diff names changed, new and removed fields', () => {
    const before = canon('{"to":"team@example.com","amount":10,"cc":["a"],"note":"x"}');
    const now = canon('{"to":"attacker@evil.example","amount":10,"cc":["a","b"],"bcc":"me"}');
    expect(diffCanonical(now, before)).toEqual({
      changed: ['to'],
      added: ['bcc', 'cc[1]'],
      removed: ['note'],
      fields: { changed: ['to', 'cc'], added: ['bcc'], removed: ['note'] },
    });
    expect(diffCanonical(before, before)).toMatchObject({
      changed: [],
      added: [],
      removed: [],
      fields: { changed: [], added: [], removed: [] },
    });
    const quoted = diffCanonical(canon('{"a b":{"c":2}}'), canon('{"a b":{"c":1}}'));
    expect(quoted?.fields.changed).toEqual(['"a b"']);
  });

  test('the queue names a proposal by its key payload fields, scalars first, long values cut', () => {
    const fields = keyFields(canon(`{"nested":{"a":1},"to":"Z\\u00fcrich","body":"${'x'.repeat(100)}","n":5}`));
    expect(fields.map((f) => f.key)).toEqual(['body', 'n', 'to']);
    expect(fields[2]!.value).toBe('Zürich');
    expect(fields[0]!.value).toHaveLength(60);
  });
});
