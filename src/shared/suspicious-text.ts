/**
 * Characters that can hide or disguise text on screen: bidirectional controls (which reorder
 * what follows them, so `fdp.exe` can read `exe.pdf`), invisible characters (zero-width
 * spaces and joiners, soft hyphens, tag characters) and words that mix look-alike scripts
 * (`pаypal` with a Cyrillic а). The console shows each of them as a visible mark instead.
 */

export type SegmentKind = 'text' | 'bidi' | 'invisible' | 'mixed';

export interface Segment {
  kind: SegmentKind;
  text: string;
  /** For marks: what the character or word is, in words. */
  label?: string;
}

const BIDI_NAMES: Record<number, string> = {
  0x061c: 'ALM',
  0x200e: 'LRM',
  0x200f: 'RLM',
  0x202a: 'LRE',
  0x202b: 'RLE',
  0x202c: 'PDF',
  0x202d: 'LRO',
  0x202e: 'RLO',
  0x2066: 'LRI',
  0x2067: 'RLI',
  0x2068: 'FSI',
  0x2069: 'PDI',
};

const INVISIBLE_NAMES: Record<number, string> = {
  0x00ad: 'SHY',
  0x034f: 'CGJ',
  0x115f: 'HF',
  0x1160: 'HF',
  0x17b4: 'KIV',
  0x17b5: 'KIV',
  0x180e: 'MVS',
  0x200b: 'ZWSP',
  0x200c: 'ZWNJ',
  0x200d: 'ZWJ',
  0x2028: 'LSEP',
  0x2029: 'PSEP',
  0x2060: 'WJ',
  0x2061: 'FA',
  0x2062: 'IT',
  0x2063: 'IS',
  0x2064: 'IP',
  0x3164: 'HF',
  0xfeff: 'BOM',
  0xffa0: 'HF',
};

/** Scripts whose letters pass for one another; a word mixing two of them is flagged. */
const LOOKALIKE_SCRIPTS: readonly [string, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
];

const codeLabel = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

function markFor(cp: number): Segment | null {
  const bidi = BIDI_NAMES[cp];
  if (bidi) return { kind: 'bidi', text: bidi, label: `${codeLabel(cp)} bidirectional control (${bidi}): reorders the text after it` };
  const invisible = INVISIBLE_NAMES[cp] ?? (cp >= 0xe0000 && cp <= 0xe007f ? 'TAG' : undefined);
  if (invisible) return { kind: 'invisible', text: invisible, label: `${codeLabel(cp)} invisible character (${invisible})` };
  return null;
}

export function scriptOf(ch: string): string | null {
  for (const [name, pattern] of LOOKALIKE_SCRIPTS) if (pattern.test(ch)) return name;
  return null;
}

/** The scripts of a word's letters, in order of first use, when it mixes look-alike scripts. */
export function mixedScripts(word: string): string[] | null {
  const scripts: string[] = [];
  for (const ch of word) {
    const script = scriptOf(ch);
    if (script && !scripts.includes(script)) scripts.push(script);
  }
  return scripts.length > 1 ? scripts : null;
}

const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/** `text` cut into plain runs and marks; joining the `text` of plain runs and mixed words loses only the marked characters. */
export function segmentText(text: string): Segment[] {
  const out: Segment[] = [];
  let plain = '';
  const flush = (): void => {
    if (plain) out.push(...wordsOf(plain));
    plain = '';
  };
  for (const ch of text) {
    const mark = markFor(ch.codePointAt(0) ?? 0);
    if (mark) {
      flush();
      out.push(mark);
    } else {
      plain += ch;
    }
  }
  flush();
  return out;
}

function wordsOf(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(WORD)) {
    const scripts = mixedScripts(match[0]);
    if (!scripts) continue;
    if (match.index > last) out.push({ kind: 'text', text: text.slice(last, match.index) });
    out.push({ kind: 'mixed', text: match[0], label: `mixes ${scripts.join(' and ')} letters` });
    last = match.index + match[0].length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}

export interface Finding {
  kind: Exclude<SegmentKind, 'text'>;
  /** The mark's short name, or the mixed word. */
  text: string;
}

/** Every bidi control, invisible character and mixed-script word in `text`. */
export function findSuspicious(text: string): Finding[] {
  return segmentText(text)
    .filter((s): s is Segment & { kind: Finding['kind'] } => s.kind !== 'text')
    .map((s) => ({ kind: s.kind, text: s.text }));
}

/** Plain text with every mark written out, for places that cannot style it (notifications). */
export function revealPlain(text: string): string {
  return segmentText(text)
    .map((s) => (s.kind === 'bidi' || s.kind === 'invisible' ? `[${s.text}]` : s.text))
    .join('');
}
