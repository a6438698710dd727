import type { ErrorCode } from './codes.js';

export interface OverseerErrorOptions {
  /** HTTP status when the error reaches a client; 500 when absent. */
  status?: number;
  /** What the user can do about it. Printed by the CLI, sent as `hint` in problem+json. */
  hint?: string;
  /** Extra structured detail (e.g. every config problem), rendered as a list. */
  details?: string[];
  cause?: unknown;
  /** Process exit status when this error ends a CLI command: 2 for usage/config errors, else 3. */
  exitCode?: number;
}

/** The only error type Overseer raises on purpose. `code` is from src/errors/codes.ts. */
export class OverseerError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly hint: string | undefined;
  readonly details: string[];
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: OverseerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OverseerError';
    this.code = code;
    this.status = options.status ?? 500;
    this.hint = options.hint;
    this.details = options.details ?? [];
    this.exitCode = options.exitCode ?? 3;
  }

  /** One human-readable block: `error 100103: message`, the details, then the hint. */
  format(): string {
    const lines = [`error ${this.code}: ${this.message}`];
    for (const d of this.details) lines.push(`  - ${d}`);
    if (this.hint) lines.push(`hint: ${this.hint}`);
    return lines.join('\n');
  }
}

export function isOverseerError(e: unknown): e is OverseerError {
  return e instanceof OverseerError;
}
