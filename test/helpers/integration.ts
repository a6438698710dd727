import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'vitest';

/**
 * Set by .ci/run: a suite that needs Prometheus, promtool, Alertmanager or node_exporter fails instead of
 * skipping when they are missing, so CI can never go green by skipping.
 */
export const REQUIRE_INTEGRATION_ENV = 'OVERSEER_REQUIRE_INTEGRATION';

/** Debian's names for the real servers the integration suites start. */
export const BINARIES = {
  prometheus: 'prometheus',
  promtool: 'promtool',
  alertmanager: 'prometheus-alertmanager',
  nodeExporter: 'prometheus-node-exporter',
} as const;

export function findBinary(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `describe` when every binary is on PATH; otherwise a skipped suite on a laptop, or — with
 * OVERSEER_REQUIRE_INTEGRATION=1 — a suite with one failing test naming what is missing.
 */
export function describeWithBinaries(
  names: ReadonlyArray<keyof typeof BINARIES>,
  title: string,
  body: (bins: Record<keyof typeof BINARIES, string>) => void,
): void {
  const found = Object.fromEntries(names.map((n) => [n, findBinary(BINARIES[n])])) as Record<
    string,
    string | undefined
  >;
  const missing = names.filter((n) => !found[n]).map((n) => BINARIES[n]);
  if (missing.length === 0) {
    describe(title, () => body(found as Record<keyof typeof BINARIES, string>));
  } else if (process.env[REQUIRE_INTEGRATION_ENV] === '1') {
    describe(title, () => {
      it('has the real servers it needs', () => {
        throw new Error(
          `${REQUIRE_INTEGRATION_ENV}=1 but ${missing.join(', ')} not on PATH (apt-get install the Debian packages)`,
        );
      });
    });
  } else {
    describe.skip(`${title} (needs ${missing.join(', ')})`, () =>
      body(found as Record<keyof typeof BINARIES, string>));
  }
}
