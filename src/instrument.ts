/**
 * `overseer/instrument`: what a service imports so Overseer can alarm on its error codes. Count every
 * error you raise by its code; Overseer's generated rules alert on `increase(errors_total{code="…"}[…])`.
 *
 *   import { countError } from 'overseer/instrument';
 *   throw countError(ErrorCodes.LEDGER_UNREACHABLE, new LedgerError(…));
 *
 * `countError` uses prom-client's default registry (what `register.metrics()` serves). A service (or
 * Overseer itself) with its own Registry uses `createErrorCounter(registry)`.
 */
import { Counter, register, type Registry } from 'prom-client';

export const ERRORS_TOTAL = 'errors_total';

export interface ErrorCounter {
  readonly counter: Counter<'code'>;
  /** Counts one error with this code; returns `passThrough` so it can wrap a `throw`. */
  countError<T>(this: void, code: number | string, passThrough?: T): T | undefined;
}

export function createErrorCounter(registry: Registry): ErrorCounter {
  const existing = registry.getSingleMetric(ERRORS_TOTAL) as Counter<'code'> | undefined;
  const counter =
    existing ??
    new Counter({
      name: ERRORS_TOTAL,
      help: 'Errors raised, by error code (each code is raised at exactly one place in the source).',
      labelNames: ['code'],
      registers: [registry],
    });
  return {
    counter,
    countError: <T>(code: number | string, passThrough?: T): T | undefined => {
      counter.inc({ code: String(code) });
      return passThrough;
    },
  };
}

let defaultCounter: ErrorCounter | undefined;

/** Counts one error on prom-client's default registry (created on first use). */
export function countError<T>(code: number | string, passThrough?: T): T | undefined {
  defaultCounter ??= createErrorCounter(register);
  return defaultCounter.countError(code, passThrough);
}
