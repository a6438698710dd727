import { postJson, type Notifier, type OutAlert } from './types.js';

/** Alertmanager API v2: `POST /api/v2/alerts` with the alerts, as Prometheus sends them. */
export class AlertmanagerNotifier implements Notifier {
  readonly name: string;

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.name = `alertmanager ${url}`;
  }

  send(alerts: readonly OutAlert[]): Promise<void> {
    return postJson(
      new URL('/api/v2/alerts', this.url).toString(),
      alerts.map((a) => ({
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.startsAt,
        endsAt: a.endsAt,
        generatorURL: a.generatorURL,
      })),
      this.timeoutMs,
    );
  }
}
