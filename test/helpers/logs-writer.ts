import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './cli-process.js';

/**
 * A service process that logs N numbered lines (`{"n": 1…N}`) through the built `overseer/logging`
 * (dist/logging.js: run `npm run build` first), `perTick` lines every `tickMs`, rotating at `maxBytes`.
 * At the end it rotates the active file (as a service does at shutdown), closes and exits 0.
 */
export interface NumberedWriterOptions {
  dir: string;
  service: string;
  lines: number;
  perTick: number;
  tickMs: number;
  maxBytes: number;
  /** Bytes of padding per line, so files fill up at a realistic pace. */
  pad?: number;
}

export interface NumberedWriter {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

const SCRIPT = `
const [logging, dir, service, lines, perTick, tickMs, maxBytes, pad] = process.argv.slice(2);
const { createLogger } = await import(logging);
const log = createLogger({ service, dir, maxBytes: Number(maxBytes) });
const filler = 'x'.repeat(Number(pad));
let n = 0;
const tick = () => {
  for (let i = 0; i < Number(perTick) && n < Number(lines); i++) log.logger.info({ n: ++n, filler }, 'numbered');
  if (n < Number(lines)) return setTimeout(tick, Number(tickMs));
  log.rotateNow();
  log.close();
  process.exit(0);
};
tick();
`;

export function startNumberedWriter(o: NumberedWriterOptions, scriptDir: string): NumberedWriter {
  const script = path.join(scriptDir, 'numbered-writer.mjs');
  writeFileSync(script, SCRIPT);
  const logging = pathToFileURL(path.join(repoRoot, 'dist', 'logging.js')).href;
  const child = spawn(
    process.execPath,
    [
      script,
      logging,
      o.dir,
      o.service,
      String(o.lines),
      String(o.perTick),
      String(o.tickMs),
      String(o.maxBytes),
      String(o.pad ?? 0),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => err };
}
