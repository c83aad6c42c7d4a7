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
  print(text: string): void;
  printJson(value: unknown): void;
}

export function stdoutOutput(json: boolean): CliOutput {
  return {
    json,
    print: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}
