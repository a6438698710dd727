import * as http from 'node:http';
import * as https from 'node:https';
import { createGunzip } from 'node:zlib';
import { SCRAPE_ACCEPT_HEADER } from '../exposition/parse.js';

/** Why a scrape failed, as a bounded label value for metrics. */
export type ScrapeFailure =
  | 'timeout'
  | 'refused'
  | 'connection'
  | 'http_status'
  | 'body_too_large'
  | 'decompress'
  | 'invalid'
  | 'sample_limit';

export class ScrapeError extends Error {
  constructor(
    readonly reason: ScrapeFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface FetchedBody {
  contentType: string | undefined;
  body: Buffer;
}

export interface FetchOptions {
  timeoutMs: number;
  /** Limit on the uncompressed body; the transfer is cut as soon as it is passed. */
  bodySizeLimit: number;
  agent: { http: http.Agent; https: https.Agent };
  signal?: AbortSignal;
}

/**
 * GET one exposition the way Prometheus does: its Accept header, gzip, the scrape timeout announced in
 * X-Prometheus-Scrape-Timeout-Seconds, and a body limit enforced while streaming (an endless body is cut
 * off, not buffered).
 */
export function fetchBody(url: string, opts: FetchOptions): Promise<FetchedBody> {
  return new Promise<FetchedBody>((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (err: ScrapeError | undefined, value?: FetchedBody): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value!);
    };
    const timer = setTimeout(
      () => finish(new ScrapeError('timeout', `scrape timed out after ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    const onAbort = (): void => finish(new ScrapeError('timeout', 'scrape cancelled: shutting down'));
    opts.signal?.addEventListener('abort', onAbort);

    const req = lib.get(
      u,
      {
        agent: u.protocol === 'https:' ? opts.agent.https : opts.agent.http,
        headers: {
          accept: SCRAPE_ACCEPT_HEADER,
          'accept-encoding': 'gzip',
          'user-agent': 'overseer',
          'x-prometheus-scrape-timeout-seconds': String(opts.timeoutMs / 1000),
        },
      },
      (res) => {
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) {
          res.resume();
          finish(
            new ScrapeError(
              'http_status',
              `server returned HTTP status ${res.statusCode} ${res.statusMessage ?? ''}`.trim(),
            ),
          );
          return;
        }
        const gzip = /\bgzip\b/i.test(res.headers['content-encoding'] ?? '');
        const stream = gzip ? res.pipe(createGunzip()) : res;
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.bodySizeLimit) {
            if (gzip) res.unpipe();
            finish(
              new ScrapeError('body_too_large', `body exceeds the limit of ${opts.bodySizeLimit} bytes`),
            );
            stream.destroy();
            return;
          }
          chunks.push(chunk);
        });
        stream.on('end', () =>
          finish(undefined, { contentType: res.headers['content-type'], body: Buffer.concat(chunks, size) }),
        );
        stream.on('error', (err: NodeJS.ErrnoException) =>
          finish(
            gzip && err.code?.startsWith('Z_')
              ? new ScrapeError('decompress', `gzip body is corrupt: ${err.message}`)
              : new ScrapeError('connection', `reading the body failed: ${err.message}`),
          ),
        );
        res.on('aborted', () =>
          finish(new ScrapeError('connection', 'connection closed before the body ended')),
        );
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') finish(new ScrapeError('refused', `connection refused (${u.host})`));
      else finish(new ScrapeError('connection', `${err.code ?? 'error'}: ${err.message}`));
    });
  });
}
