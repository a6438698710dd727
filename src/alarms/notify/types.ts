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

export class DeliveryError extends Error {}

/** POST JSON with a timeout; throws DeliveryError naming the status or network error. */
export async function postJson(url: string, body: unknown, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new DeliveryError(`POST ${url}: ${cause ?? (e as Error).message}`);
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw new DeliveryError(`POST ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
}
