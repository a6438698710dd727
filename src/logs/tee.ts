import type { DestinationStream } from 'pino';

/** What a pino destination may offer besides `write`: SonicBoom and RotatingFile have both. */
export interface FlushableStream extends DestinationStream {
  flushSync?: () => void;
  flush?: (cb?: (err?: Error) => void) => void;
}

/**
 * One pino destination that writes each line to a primary stream and then to a copy (Overseer: its own
 * log file, then stdout). Cheaper than pino.multistream, which checks a level per stream and per line:
 * here it is two calls. The primary is written first and a throwing copy is swallowed, so a broken
 * stdout (EPIPE, a closed terminal) never costs a line in the file.
 */
export class Tee implements FlushableStream {
  constructor(
    private readonly primary: FlushableStream,
    private readonly copy: FlushableStream,
  ) {}

  write(chunk: string): void {
    this.primary.write(chunk);
    try {
      this.copy.write(chunk);
    } catch {
      // See the class comment: the copy is best effort.
    }
  }

  /** pino calls this after every `fatal`; the fatal handlers call it before exiting. Never throws. */
  flushSync(): void {
    for (const s of [this.primary, this.copy]) {
      try {
        s.flushSync?.();
      } catch {
        // SonicBoom throws while its fd is still opening; there is nothing buffered to lose then.
      }
    }
  }

  /** pino's `logger.flush(cb)`: both streams flushed, then `cb`. */
  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    if (cb) queueMicrotask(() => cb());
  }
}
