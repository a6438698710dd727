import type { Hono } from 'hono';
import { requireRole } from '../http/auth.js';
import type { AppEnv } from '../http/env.js';
import type { Alarms } from './alarms.js';

/** The code catalog (viewer) and its reload (operator). */
export function alarmRoutes(alarms: Alarms) {
  return (api: Hono<AppEnv>): void => {
    api.get('/codes', requireRole('viewer'), (c) => c.json({ codes: alarms.codes(), ...alarms.status() }));
    api.post('/codes/reload', requireRole('operator'), async (c) => {
      await alarms.reload();
      return c.json({ codes: alarms.codes().length, ...alarms.status() });
    });
  };
}
