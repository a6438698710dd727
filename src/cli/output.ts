/** Where CLI commands print; injected so tests capture it. The CLI is the only place that prints. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const write = (stream: NodeJS.WriteStream, t: string): void => {
  // Destroyed after an EPIPE (see main): the reader is gone, nothing more to print.
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
