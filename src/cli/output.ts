/** Where CLI commands print; injected so tests capture it. The CLI is the only place that prints. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const guarded = new WeakSet<NodeJS.WriteStream>();

/**
 * `overseer … | head`: when the reader goes away, stop printing, like any Unix tool (an unhandled EPIPE
 * would end the process with a stack trace); what the command does besides printing goes on. Only stdout
 * (what is piped), and only from its first write: `serve` logs to fd 1 through its own writer and never
 * needs the guard.
 */
const write = (stream: NodeJS.WriteStream, t: string): void => {
  if (stream === process.stdout && !guarded.has(stream)) {
    guarded.add(stream);
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
      stream.destroy();
    });
  }
  if (!stream.destroyed) stream.write(t.endsWith('\n') ? t : `${t}\n`);
};

export const processOutput: Output = {
  out: (t) => write(process.stdout, t),
  err: (t) => write(process.stderr, t),
};

/** A plain aligned table, like `kubectl get`: header row, then one row per item. */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [
    headers,
    ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c)))),
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}
