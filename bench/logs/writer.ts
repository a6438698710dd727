// A service for the keep-up benchmark, run as its own process: logs through `overseer/logging` at a
// fixed byte rate for a fixed time (in 50 ms ticks), rotates at shutdown, and prints what it wrote.
// argv: <dir> <bytes per second> <seconds> <maxBytes>
import { createLogger } from '../../src/logging.js';

const [dir, rateArg, secondsArg, maxBytesArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
let rotatedBytes = 0;
const log = createLogger({
  service: 'keepup',
  dir: dir!,
  maxBytes: Number(maxBytesArg),
  onRotate: (_file, bytes) => (rotatedBytes += bytes),
});
/** Bytes written so far: the rotated files' sizes plus the active file's. */
const bytesSoFar = (): number => rotatedBytes + log.destination.stats().activeBytes;
const TICK_MS = 50;
// A request-log line with some variety, so gzip sees realistic (not degenerate) input.
const routes = ['/api/v1/items', '/api/v1/orders/42', '/api/v1/users/me', '/healthz', '/api/v1/search?q=x'];

let lines = 0;
const t0 = performance.now();
const tick = (): void => {
  const elapsed = (performance.now() - t0) / 1000;
  const due = Math.min(elapsed, seconds) * rate;
  let written = bytesSoFar();
  while (written < due) {
    lines++;
    log.logger.info(
      {
        n: lines,
        tenant: `t-${lines % 97}`,
        route: routes[lines % routes.length],
        status: 200,
        ms: lines % 250,
      },
      'request served',
    );
    written = bytesSoFar();
  }
  if (elapsed < seconds) {
    setTimeout(tick, TICK_MS);
    return;
  }
  log.rotateNow();
  log.close();
  process.stdout.write(`${JSON.stringify({ lines, bytes: written, seconds: elapsed })}\n`);
};

tick();
