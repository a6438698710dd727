import { ErrorCodes, OverseerError } from '../../errors/index.js';
import { fetchFailure } from '../../fetch-failure.js';

/** One alert as it goes out, in Alertmanager's terms. */
export interface OutAlert {
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** Resolved: when. Firing: when Alertmanager should consider it resolved if no re-send arrives. */
  endsAt: string;
  generatorURL: string;
}

/** A delivery target. `send` resolves when the receiver accepted the batch, and throws otherwise. */
export interface Notifier {
  readonly name: string;
  send(alerts: readonly OutAlert[]): Promise<void>;
}

/**
 * POST JSON with a timeout. A network error, a timeout or a non-2xx answer is an OverseerError (code
 * NOTIFICATION_DELIVERY_FAILED) naming the URL and what went wrong; the delivery queue retries it.
 */
export async function postJson(url: string, body: unknown, timeoutMs: number): Promise<void> {
  let reason: string | undefined;
  let cause: unknown;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text().catch(() => '');
    if (!res.ok) reason = `HTTP ${res.status} ${text.slice(0, 200)}`.trim();
  } catch (e) {
    cause = e;
    reason = fetchFailure(e, timeoutMs);
  }
  if (reason === undefined) return;
  throw new OverseerError(ErrorCodes.NOTIFICATION_DELIVERY_FAILED, `POST ${url}: ${reason}`, {
    status: 502,
    cause,
    hint: 'check that the receiver (alarms.alertmanager.url / alarms.webhooks) is up and reachable from Overseer; delivery is retried with backoff',
  });
}
