/**
 * Terminal-safe text. Agents choose the words the operator reads (context, payload, results,
 * refusal reasons); a terminal obeys some characters instead of showing them. Control codes
 * and ESC sequences repaint the screen, bidi controls reorder what is shown, and invisible
 * characters hide text. Every human-readable line the CLI writes passes through here, so what
 * the operator reads is exactly what was sent: such characters become visible marks.
 */

/**
 * C0 and C1 controls and DEL (Cc), format characters (Cf: bidi embeddings, overrides,
 * isolates and marks, zero-width space/joiners, word joiner, BOM, soft hyphen, tags …),
 * line and paragraph separators, lone surrogates, private-use and unassigned code points,
 * and the invisible letters and marks outside those categories (combining grapheme joiner,
 * Hangul fillers, variation selectors).
 */
const HIDDEN_CLASS = String.raw`\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f\u{e0100}-\u{e01ef}`;
const HIDDEN = new RegExp(`[${HIDDEN_CLASS}]`, 'gu');
const HIDDEN_OR_BACKSLASH = new RegExp(`[${HIDDEN_CLASS}\\\\]`, 'gu');

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

function mark(ch: string): string {
  const short = SHORT[ch];
  if (short !== undefined) return short;
  const cp = ch.codePointAt(0)!;
  if (cp <= 0xff) return `\\x${hex(cp, 2)}`;
  if (cp <= 0xffff) return `\\u${hex(cp, 4)}`;
  return `\\u{${hex(cp, 5)}}`;
}

/**
 * One line of text for a terminal: every hidden or controlling character shown as an escape
 * (`\x1b`, `\r`, `\n`, `\u202e`, `\u200b` …), and a backslash doubled, so an agent cannot
 * write something that looks like one of our marks.
 */
export function terminalSafe(text: string): string {
  return text.replace(HIDDEN_OR_BACKSLASH, mark);
}

/**
 * JSON text with the same characters as `\uXXXX` escapes: it parses to the identical value
 * and reads safely in a terminal. JSON's own escapes already say exactly what each character
 * is, so backslashes stay as they are and canonical JSON (printable ASCII) is shown verbatim.
 * `layout`: JSON.stringify escapes every control inside strings, so in its indented output a
 * raw line feed is layout and is kept; anywhere else it is escaped like the rest.
 */
export function terminalSafeJson(json: string, layout = false): string {
  return json.replace(HIDDEN, (ch) => {
    if (layout && ch === '\n') return ch;
    let out = '';
    for (let i = 0; i < ch.length; i++) out += `\\u${hex(ch.charCodeAt(i), 4)}`;
    return out;
  });
}

/** A piece of JSON text (a canonical payload, a result), shown by JSON's escaping rules. */
export interface JsonText {
  readonly json: string;
}
export const jsonText = (json: string): JsonText => ({ json });

/** What a line is made of: our words and agents' free text (strings), and JSON text. */
export type LinePart = string | JsonText;

/** One terminal-safe line: strings through terminalSafe, JSON text through terminalSafeJson. */
export function terminalLine(parts: readonly LinePart[]): string {
  return parts.map((p) => (typeof p === 'string' ? terminalSafe(p) : terminalSafeJson(p.json))).join('');
}

/** UTF-8 length of one code point (a lone surrogate is written as U+FFFD: 3 bytes). */
const utf8Length = (cp: number) => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

/**
 * The longest start of `text` that fits in `maxBytes` UTF-8 bytes, cut between characters,
 * and how many bytes were left out (0 when all of it fits).
 */
export function utf8Prefix(text: string, maxBytes: number): { shown: string; hiddenBytes: number } {
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const n = utf8Length(ch.codePointAt(0)!);
    if (used + n > maxBytes) break;
    used += n;
    end += ch.length;
  }
  if (end === text.length) return { shown: text, hiddenBytes: 0 };
  return { shown: text.slice(0, end), hiddenBytes: Buffer.byteLength(text, 'utf8') - used };
}

/**
 * The text whole, or its start and exactly how many of its bytes are not shown and where to
 * see them: never cut silently.
 */
export function preview(text: LinePart, maxBytes: number, whereWhole: string): LinePart[] {
  const whole = typeof text === 'string' ? text : text.json;
  const { shown, hiddenBytes } = utf8Prefix(whole, maxBytes);
  if (hiddenBytes === 0) return [text];
  return [typeof text === 'string' ? shown : jsonText(shown), `… (${hiddenBytes} more bytes hidden; see them with ${whereWhole})`];
}
