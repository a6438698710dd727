import { postJson, type Notifier, type OutAlert } from './types.js';

/** Labels every alert of the batch has with the same value. */
function common(list: ReadonlyArray<Record<string, string>>): Record<string, string> {
  if (list.length === 0) return {};
  const out: Record<string, string> = { ...list[0] };
  for (const l of list.slice(1)) for (const k of Object.keys(out)) if (l[k] !== out[k]) delete out[k];
  return out;
}

/** A webhook receiving Alertmanager's webhook payload (version 4), one POST per batch. */
export class WebhookNotifier implements Notifier {
  readonly name: string;

  constructor(
    private readonly url: string,
    private readonly externalUrl: () => string,
    private readonly timeoutMs = 10_000,
  ) {
    this.name = `webhook ${url}`;
  }

  send(alerts: readonly OutAlert[]): Promise<void> {
    const groupLabels = common(alerts.map((a) => a.labels));
    return postJson(
      this.url,
      {
        version: '4',
        groupKey: `{}:${JSON.stringify(groupLabels)}`,
        truncatedAlerts: 0,
        status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
        receiver: 'overseer',
        groupLabels,
        commonLabels: groupLabels,
        commonAnnotations: common(alerts.map((a) => a.annotations)),
        externalURL: this.externalUrl(),
        alerts: alerts.map((a) => ({
          status: a.status,
          labels: a.labels,
          annotations: a.annotations,
          startsAt: a.startsAt,
          endsAt: a.status === 'resolved' ? a.endsAt : '0001-01-01T00:00:00Z',
          generatorURL: a.generatorURL,
          fingerprint: a.fingerprint,
        })),
      },
      this.timeoutMs,
    );
  }
}
