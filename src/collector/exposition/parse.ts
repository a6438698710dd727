import { isAscii, isUtf8 } from 'node:buffer';
import { parseOpenMetrics } from './openmetrics.js';
import { parsePrometheusText } from './prometheus-text.js';
import { ExpositionSyntaxError } from './syntax-error.js';
import type { Exposition, ExpositionFormat, ParseOptions } from './types.js';

export { ExpositionSyntaxError } from './syntax-error.js';

/** What Prometheus 2.x sends when it scrapes: OpenMetrics first, then the text format, then anything. */
export const SCRAPE_ACCEPT_HEADER =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** OpenMetrics when the response says so; the Prometheus text format otherwise (as Prometheus falls back). */
export function formatFromContentType(contentType: string | undefined): ExpositionFormat {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return mediaType === 'application/openmetrics-text' ? 'openmetrics' : 'prometheus';
}

/** Parses a whole exposition; throws ExpositionSyntaxError (`line:col: reason`) on the first problem. */
export function parseExposition(text: string, format: ExpositionFormat, opts: ParseOptions = {}): Exposition {
  return format === 'openmetrics' ? parseOpenMetrics(text, opts) : parsePrometheusText(text, opts);
}

/**
 * Decodes a body as strict UTF-8. A bad byte is reported at its line and column instead of turning into
 * U+FFFD inside a label value. Nearly every exposition is ASCII: that case is checked and decoded natively
 * (simdutf) and yields a one-byte string, which the parser scans fastest.
 */
export function decodeExposition(body: Uint8Array): string {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (isAscii(buf)) return buf.toString('latin1');
  if (isUtf8(buf)) return buf.toString('utf8');
  const lenient = buf.toString('utf8');
  const at = lenient.indexOf('\uFFFD');
  const before = lenient.slice(0, Math.max(at, 0));
  const line = before.split('\n').length;
  const column = at - (before.lastIndexOf('\n') + 1) + 1;
  throw new ExpositionSyntaxError(line, column, 'invalid UTF-8');
}
