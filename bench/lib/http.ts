import { createServer } from 'node:net';
import { progress, sleep } from './progress.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** GET a loopback URL as text; throws on a non-2xx status or after `timeoutMs`. */
export async function getText(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<string> {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`bench talks to loopback only, not ${url}`);
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${body.slice(0, 200)}`);
  return body;
}

export interface WaitOptions {
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Called on each failed check; its string (if any) is shown as progress at most every 5 s. */
  describe?: () => string;
  /** Throws to give up early, e.g. when the process under test died. */
  check?: () => void;
}

/** Polls `probe` until it returns true; errors from `probe` count as "not yet". */
export async function waitFor(probe: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const start = Date.now();
  let lastReport = start;
  let lastError = '';
  for (;;) {
    options.check?.();
    try {
      if (await probe()) return;
      lastError = '';
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    const now = Date.now();
    if (now - start > options.timeoutMs) {
      const detail = [options.describe?.(), lastError].filter(Boolean).join('; ');
      throw new Error(
        `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what}${detail ? ` (${detail})` : ''}`,
      );
    }
    if (now - lastReport >= 5_000) {
      lastReport = now;
      progress(`waiting for ${options.what}… ${options.describe?.() ?? lastError}`);
    }
    await sleep(options.intervalMs ?? 1_000);
  }
}
