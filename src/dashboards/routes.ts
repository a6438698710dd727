import type { Hono } from 'hono';
import type { CatalogEntry } from '../collector/catalog.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { requireRole } from '../http/auth.js';
import type { AppEnv } from '../http/env.js';
import { generate, type Generated, type GenerateInput } from './generate.js';
import { renderDashboard } from './render.js';

export interface DashboardSources {
  families: () => readonly CatalogEntry[];
  codes: () => GenerateInput['codes'];
  ruleOptions: () => GenerateInput['ruleOptions'];
}

/**
 * Generated dashboards and rules from what the service sees now. Generation is a pure function of the two
 * catalogs, so the last result is kept until either changes (both are rebuilt objects on change).
 */
export function dashboardRoutes(sources: DashboardSources) {
  let last: { key: string; generated: Generated } | undefined;
  const current = (): Generated => {
    const input: GenerateInput = {
      families: sources.families(),
      codes: sources.codes(),
      ruleOptions: sources.ruleOptions(),
    };
    const key = JSON.stringify(input);
    if (last?.key !== key) last = { key, generated: generate(input) };
    return last.generated;
  };
  return (api: Hono<AppEnv>): void => {
    api.get('/dashboards', requireRole('viewer'), (c) => {
      const g = current();
      return c.json({
        dashboards: g.dashboards.map(({ uid, title, tags, file }) => ({ uid, title, tags, file })),
        warnings: g.warnings,
      });
    });

    api.get('/dashboards/:uid', requireRole('viewer'), (c) => {
      const uid = c.req.param('uid');
      const d = current().dashboards.find((x) => x.uid === uid);
      if (d === undefined) {
        throw new OverseerError(ErrorCodes.DASHBOARD_NOT_FOUND, `no generated dashboard ${uid}`, {
          status: 404,
          hint: 'GET /api/v1/dashboards lists them',
        });
      }
      return c.json(renderDashboard(d.spec));
    });

    // Every rule file in one YAML stream, the way Prometheus's rule_files would load them.
    api.get('/rules', requireRole('viewer'), (c) =>
      c.body(
        current()
          .rules.map((r) => `# ${r.path}\n${r.content}`)
          .join('---\n'),
        200,
        {
          'content-type': 'application/yaml; charset=utf-8',
        },
      ),
    );
  };
}
