import { terminalLine, terminalSafeJson, type LinePart } from './terminal-text.ts';

/** A CLI failure: printed as one line on stderr, with this exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface CliOutput {
  json: boolean;
  /** One line; anything a terminal would obey instead of show is written as a visible mark. */
  print(...parts: LinePart[]): void;
  /** JSON whose hidden characters are \u escapes: the same value, safe to look at. */
  printJson(value: unknown): void;
}

export function stdoutOutput(json: boolean): CliOutput {
  return {
    json,
    print: (...parts) => process.stdout.write(`${terminalLine(parts)}\n`),
    printJson: (value) => process.stdout.write(`${terminalSafeJson(JSON.stringify(value, null, 2), true)}\n`),
  };
}
