/** Progress goes to stderr so stdout carries only the result table. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Sleeps `ms`, printing `label: n/total s` every `everyMs` so a long wait is visibly alive. */
export async function sleepWithProgress(ms: number, label: string, everyMs = 10_000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    const left = ms - (Date.now() - start);
    await sleep(Math.min(everyMs, left));
    const elapsed = Math.min(Date.now() - start, ms);
    progress(`${label}: ${Math.round(elapsed / 1000)}/${Math.round(ms / 1000)} s`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
