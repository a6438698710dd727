import { mkdir, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { Generated } from './generate.js';
import { renderDashboard } from './render.js';
import { fetchFailure } from '../fetch-failure.js';

export interface GrafanaTarget {
  url: string;
  /** A service-account token; sent as a Bearer token. */
  token: string | undefined;
  folderUid: string | undefined;
}

/**
 * Creates or updates every dashboard through Grafana's HTTP API (`POST /api/dashboards/db`, overwrite on
 * the stable uid). Stops at the first refusal; what was pushed before it stays pushed (pushing is
 * idempotent, so running again completes it). Returns the uids pushed.
 */
export async function pushToGrafana(
  generated: Generated,
  grafana: GrafanaTarget,
  onProgress: (done: number, total: number, uid: string) => void = () => undefined,
): Promise<string[]> {
  const done: string[] = [];
  for (const d of generated.dashboards) {
    const url = new URL('/api/dashboards/db', grafana.url).toString();
    let failure: string | undefined;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(grafana.token ? { authorization: `Bearer ${grafana.token}` } : {}),
        },
        body: JSON.stringify({
          dashboard: { ...renderDashboard(d.spec), id: null },
          ...(grafana.folderUid ? { folderUid: grafana.folderUid } : {}),
          overwrite: true,
          message: 'overseer generate --push',
        }),
        signal: AbortSignal.timeout(15_000),
      });
      if (!res.ok) failure = `HTTP ${res.status} ${(await res.text().catch(() => '')).slice(0, 200)}`.trim();
    } catch (e) {
      failure = fetchFailure(e);
    }
    if (failure !== undefined) {
      throw new OverseerError(
        ErrorCodes.GRAFANA_PUSH_FAILED,
        `Grafana refused dashboard ${d.uid}: ${failure}`,
        {
          details: [`pushed before it: ${done.length ? done.join(', ') : 'none'}`],
          hint: 'check dashboards.grafana.url and that the token may write dashboards (Editor role); pushing again is safe',
        },
      );
    }
    done.push(d.uid);
    onProgress(done.length, generated.dashboards.length, d.uid);
  }
  return done;
}

/**
 * Writes the rule files into Prometheus's rules folder (each through a temp file and a rename, so
 * Prometheus never reads half a file) and asks it to reload (`POST /-/reload`, which needs
 * --web.enable-lifecycle). Prometheus keeps its previous rules when a reload fails, and says so here.
 */
export async function pushRulesToPrometheus(
  generated: Generated,
  target: { rulesDir: string; url?: string | undefined },
): Promise<string[]> {
  await mkdir(target.rulesDir, { recursive: true });
  const written: string[] = [];
  for (const f of generated.rules) {
    const file = path.join(target.rulesDir, path.basename(f.path));
    await writeFile(`${file}.tmp`, f.content);
    await rename(`${file}.tmp`, file);
    written.push(file);
  }
  if (target.url === undefined) return written;
  const url = new URL('/-/reload', target.url).toString();
  let failure: string | undefined;
  try {
    const res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(30_000) });
    if (!res.ok) failure = `HTTP ${res.status} ${(await res.text().catch(() => '')).slice(0, 300)}`.trim();
  } catch (e) {
    failure = fetchFailure(e);
  }
  if (failure !== undefined) {
    throw new OverseerError(ErrorCodes.PROMETHEUS_RELOAD_FAILED, `Prometheus did not reload: ${failure}`, {
      details: written.map((w) => `written: ${w}`),
      hint: 'run Prometheus with --web.enable-lifecycle and rule_files covering the rules folder; it keeps its old rules until a reload succeeds',
    });
  }
  return written;
}
