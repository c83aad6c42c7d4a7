import { terminalLine, terminalSafe, type LinePart } from '../cli/terminal-text.ts';

export type Role = 'agent' | 'operator' | 'boundary' | 'receipt' | 'check' | 'demo';

const WIDTH = 96;
const LABEL = 9;
const STYLE: Record<Role, string> = {
  agent: '36', // cyan
  operator: '33', // yellow
  boundary: '35', // magenta
  receipt: '32', // green
  check: '32',
  demo: '2', // dim
};

/** Words to lines of at most `width` characters; a longer word is cut rather than overflowing. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/ +/)) {
      for (let w = word; w.length > 0; w = w.slice(width)) {
        const piece = w.slice(0, width);
        if (line === '') line = piece;
        else if (line.length + 1 + piece.length <= width) line += ` ${piece}`;
        else {
          lines.push(line);
          line = piece;
        }
      }
    }
    lines.push(line);
  }
  return lines;
}

/**
 * Tells the story in the terminal, one labelled line at a time: who speaks (the agent, the
 * operator, the boundary), what a receipt says. Everything is passed through terminalSafe, since
 * much of it was written by the agent (payloads, context, refusal reasons).
 */
export class Narrator {
  constructor(
    private readonly write: (text: string) => void,
    private readonly color: boolean,
  ) {}

  private paint(code: string, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  banner(text: string): void {
    this.write(`\n${this.paint('1', terminalSafe(text))}\n${'='.repeat(Math.min(WIDTH, text.length))}\n`);
  }

  step(n: number, total: number, kind: string, title: string): void {
    this.write(`\n${this.paint('1', `[${n}/${total}] ${terminalSafe(title)}`)} ${this.paint('2', `(${kind})`)}\n`);
  }

  /** The presenter's narration: why this step is here. */
  say(text: string): void {
    for (const l of wrap(terminalSafe(text.trim()), WIDTH - 2)) this.write(`  ${this.paint('3', l)}\n`);
  }

  /** Our words and agents' text as strings; payloads and results as JSON text (jsonText). */
  line(role: Role, ...parts: LinePart[]): void {
    const label = role.padEnd(LABEL);
    wrap(terminalLine(parts), WIDTH - LABEL - 4).forEach((l, i) => {
      this.write(`  ${this.paint(STYLE[role], i === 0 ? label : ' '.repeat(LABEL))}| ${l}\n`);
    });
  }

  /** Lines of a command's output, shown as they came (made safe, never wrapped). */
  output(text: string): void {
    for (const l of text.trimEnd().split('\n')) this.write(`  ${' '.repeat(LABEL)}  ${this.paint('2', terminalSafe(l))}\n`);
  }

  plain(text: string): void {
    this.write(`${terminalSafe(text)}\n`);
  }
}
