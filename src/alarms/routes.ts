import type { Hono } from 'hono';
import { z } from 'zod';
import type { AuditLog } from '../db/audit-log.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { requireRole } from '../http/auth.js';
import type { AppEnv } from '../http/env.js';
import type { Alarms } from './alarms.js';
import type { AlarmEvaluator } from './evaluator/evaluator.js';
import type { NotificationDispatcher } from './notify/dispatcher.js';
import type { Silences } from './silences.js';
import { parseDuration } from '../config/units.js';
import { jsonBody } from '../http/validate.js';

const silenceBody = z
  .strictObject({
    matchers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }).optional(),
    duration: z
      .string()
      .refine((d) => parseDuration(d) !== undefined, 'a duration like 30m or 2h')
      .optional(),
    comment: z.string().min(1),
  })
  .refine(
    (b) => (b.endsAt === undefined) !== (b.duration === undefined),
    'give endsAt or duration (one of them)',
  );

const alarmsQuery = z.object({ state: z.enum(['pending', 'firing', 'resolved']).optional() });
const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** The code catalog, the alarms of the built-in evaluator, and acks. */
export function alarmRoutes(
  alarms: Alarms,
  evaluator: AlarmEvaluator,
  silences: Silences,
  audit: AuditLog,
  dispatcher?: NotificationDispatcher,
) {
  return (api: Hono<AppEnv>): void => {
    api.get('/silences', requireRole('viewer'), (c) => c.json({ silences: silences.list() }));
    api.post('/silences', requireRole('operator'), async (c) => {
      const body = await jsonBody(c, silenceBody);
      const by = c.get('principal').name;
      const created = await silences.create(
        {
          matchers: body.matchers,
          ...(body.startsAt !== undefined ? { startsAt: new Date(body.startsAt) } : {}),
          ...(body.endsAt !== undefined ? { endsAt: new Date(body.endsAt) } : {}),
          ...(body.duration !== undefined ? { durationMs: parseDuration(body.duration)! } : {}),
          comment: body.comment,
        },
        by,
      );
      await audit.record(by, 'silence.create', `silence/${created.id}`, {
        matchers: body.matchers,
        endsAt: created.endsAt,
      });
      return c.json(created, 201);
    });
    api.delete('/silences/:id', requireRole('operator'), async (c) => {
      const id = c.req.param('id');
      await silences.expire(id);
      await audit.record(c.get('principal').name, 'silence.expire', `silence/${id}`, {});
      return c.json({ id, status: 'expired' });
    });

    api.get('/codes', requireRole('viewer'), (c) => c.json({ codes: alarms.codes(), ...alarms.status() }));
    api.post('/codes/reload', requireRole('operator'), async (c) => {
      await alarms.reload();
      return c.json({ codes: alarms.codes().length, ...alarms.status() });
    });

    api.get('/alarms', requireRole('viewer'), (c) => {
      const q = alarmsQuery.safeParse(c.req.query());
      if (!q.success) {
        throw new OverseerError(ErrorCodes.ALARM_QUERY_INVALID, 'state must be pending, firing or resolved', {
          status: 400,
          hint: 'GET /api/v1/alarms?state=firing, or no state for all',
        });
      }
      const list = evaluator
        .alarms()
        .filter((a) => q.data.state === undefined || a.state === q.data.state)
        .map((a) => ({
          id: a.id ?? null,
          alertname: a.alertname,
          state: a.state,
          labels: a.labels,
          annotations: a.annotations,
          value: a.value,
          activeAt: iso(a.activeAt),
          firedAt: iso(a.firedAt),
          resolvedAt: iso(a.resolvedAt),
          ackedAt: a.ackedAt?.toISOString() ?? null,
          ackedBy: a.ackedBy,
          silenced: silences.silenced({ alertname: a.alertname, ...a.labels }),
        }));
      // Overseer's own delivery trouble is an alarm too (not persisted: it is the state of this process).
      const self = (dispatcher?.selfAlarms() ?? [])
        .filter(() => q.data.state === undefined || q.data.state === 'firing')
        .map((a) => ({
          id: null,
          alertname: a.alertname,
          state: 'firing',
          labels: a.labels,
          annotations: {
            summary: `notifications to ${a.labels.notifier} keep failing`,
            description: a.error ?? '',
          },
          value: 1,
          activeAt: null,
          firedAt: null,
          resolvedAt: null,
          ackedAt: null,
          ackedBy: null,
          silenced: false,
        }));
      return c.json({ alarms: [...list, ...self] });
    });

    api.post('/alarms/:id{[0-9]+}/ack', requireRole('operator'), async (c) => {
      const id = c.req.param('id');
      const by = c.get('principal').name;
      if (!(await evaluator.ack(id, by))) {
        throw new OverseerError(ErrorCodes.ALARM_NOT_ACTIVE, `no pending or firing alarm ${id}`, {
          status: 404,
          hint: 'GET /api/v1/alarms?state=firing lists the alarms that can be acknowledged',
        });
      }
      await audit.record(by, 'alarm.ack', `alarm/${id}`, {});
      return c.json({ id, ackedBy: by });
    });
  };
}
