/**
 * An invalid exposition: `line:column: reason`, 1-based, like `promtool check metrics`. Deliberately not an
 * OverseerError: the parser rejects input in many places, and each caller (scrape, CLI) wraps it in its one
 * error code.
 */
export class ExpositionSyntaxError extends Error {
  readonly line: number;
  readonly column: number;
  readonly reason: string;

  constructor(line: number, column: number, reason: string) {
    super(`${line}:${column}: ${reason}`);
    this.name = 'ExpositionSyntaxError';
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}
