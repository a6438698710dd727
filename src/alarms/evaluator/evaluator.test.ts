import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/test-db.js';
import { ManualClock } from '../../clock.js';
import { seriesKey } from '../../collector/exposition/lexer.js';
import type { Sample } from '../../collector/exposition/types.js';
import { SampleWindow } from '../../collector/sample-window.js';
import { alertAnnotations } from '../../dashboards/error-code-rules.js';
import { migrateToLatest } from '../../db/migrate.js';
import { openDatabase, type OpenedDatabase } from '../../db/open.js';
import type { CatalogFile } from '../catalog-file.js';
import type { AlarmCode } from '../code-catalog.js';
import { AlarmStore, type StoredAlarm } from './alarm-store.js';
import { RESOLVED_RETENTION_MS, type AlertState } from './alert-state.js';
import { compileCodeRules } from './compile.js';
import { AlarmEvaluator } from './evaluator.js';

const logger = pino({ level: 'silent' });
const INTERVAL = 15_000;
// Aligned to the interval, like the evaluator's own schedule.
const T0 = 1_700_000_040_000;
const at = (k: number): number => T0 + k * INTERVAL;
const CODE = 104211;
const ALERT = `ErrorCode${CODE}`;

type Classes = CatalogFile['classes'];
type Rules = ReturnType<typeof rulesOf>;

function code(n: number, cls: 'server' | 'client'): AlarmCode {
  return {
    service: 'svc',
    name: `CODE_${n}`,
    code: n,
    class: cls,
    owner: null,
    description: null,
    runbookUrl: null,
    source: `src/x.ts:${n % 100}`,
    definedAt: 'src/errors.ts:1',
    alert: true,
    problems: [],
  };
}

function rulesOf(codes: AlarmCode[], classes: Classes = {}) {
  return compileCodeRules(codes, { scrapeIntervalMs: INTERVAL, classes }).map((r) => ({
    ...r,
    annotations: alertAnnotations(codes.find((c) => String(c.code) === r.code)!),
  }));
}

function sample(labels: Record<string, string>, value: number, name = 'errors_total'): Sample {
  const pairs = Object.keys(labels)
    .sort()
    .flatMap((k) => [k, labels[k]!]);
  return {
    name,
    labels: pairs,
    value,
    timestampMs: undefined,
    exemplar: undefined,
    family: 0,
    series: seriesKey(name, pairs),
  };
}

interface Note {
  step: number;
  alertname: string;
  id: string;
  state: AlertState;
  from: AlertState | undefined;
  to: AlertState;
}

const flat = (n: number, v: number): number[] => Array.from({ length: n }, () => v);
const rise = (n: number, from: number, step: number): number[] =>
  Array.from({ length: n }, (_, i) => from + i * step);
const letter = (s: AlertState | undefined): string =>
  s === undefined ? '-' : { pending: 'P', firing: 'F', resolved: 'R' }[s];
/** What must match between the evaluator's memory and the database (value is not saved every cycle). */
const persisted = (a: Omit<StoredAlarm, 'id'> & { id: string | undefined }) => ({
  id: a.id,
  alertname: a.alertname,
  fingerprint: a.fingerprint,
  labels: a.labels,
  annotations: a.annotations,
  state: a.state,
  activeAt: a.activeAt,
  firedAt: a.firedAt,
  resolvedAt: a.resolvedAt,
  keepFiringSince: a.keepFiringSince,
  ackedAt: a.ackedAt,
  ackedBy: a.ackedBy,
});

describe('AlarmEvaluator on a sample window, a fake clock and Postgres', () => {
  let testDb: TestDatabase;
  let opened: OpenedDatabase;
  let store: AlarmStore;
  const started: AlarmEvaluator[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    opened = await openDatabase({ url: testDb.url, dataDir: '/nonexistent', logger });
    await migrateToLatest(opened.db, logger);
    store = new AlarmStore(opened.db);
  });
  afterAll(async () => {
    await opened?.close();
    await testDb?.drop();
  });
  beforeEach(async () => {
    await opened.db.deleteFrom('alarms').execute();
  });
  afterEach(async () => {
    for (const e of started.splice(0)) await e.stop();
  });

  /** An evaluator over target t1 (job api) and whatever else a test scrapes; notes collected by step. */
  function rig(initialRules: Rules) {
    const window = new SampleWindow({ windowMs: 10 * 60_000, intervalMs: INTERVAL, maxSeries: 10_000 });
    const clock = new ManualClock(at(0));
    const notes: Note[] = [];
    const targets = [{ id: 't1', job: 'api', goneSince: undefined as number | undefined }];
    let rules = initialRules;
    let step = -1;
    let registry = new Registry();
    const make = () => {
      registry = new Registry();
      const e = new AlarmEvaluator({
        store,
        window,
        statuses: () =>
          targets.map((t) => ({
            target: { id: t.id, labels: { job: t.job, instance: `${t.id}:9100` } },
            goneSince: t.goneSince,
          })),
        rules: () => rules,
        intervalMs: INTERVAL,
        clock,
        logger,
        registry,
        onChanges: (changes) => {
          for (const { alarm, transition } of changes)
            notes.push({
              step,
              alertname: alarm.alertname,
              id: alarm.id,
              state: alarm.state,
              from: transition.from,
              to: transition.to,
            });
        },
      });
      started.push(e);
      return e;
    };
    const r = {
      window,
      clock,
      notes,
      targets,
      evaluator: make(),
      registry: () => registry,
      setRules(next: Rules) {
        rules = next;
      },
      /** Appends scrape k of every target (missing ones scrape nothing) and evaluates at its time. */
      async step(k: number, samples: Record<string, Sample[]>) {
        for (const t of targets) window.append(t.id, at(k), samples[t.id] ?? []);
        await r.evaluate(k);
      },
      async evaluate(k: number, now = at(k)) {
        step = k;
        clock.set(now);
        await r.evaluator.evaluateOnce(now);
      },
      /** A new process: a second evaluator on the same store and window, state loaded by start(). */
      async restart() {
        r.evaluator = make();
        await r.evaluator.start();
        await r.evaluator.stop();
      },
      alarm(alertname = ALERT) {
        return r.evaluator.alarms().find((a) => a.alertname === alertname);
      },
      async stored(alertname = ALERT) {
        return (await store.loadActive()).find((a) => a.alertname === alertname);
      },
    };
    return r;
  }

  /** One error code's counter on t1, one value per scrape. */
  const errors = (v: number) => ({ t1: [sample({ code: String(CODE) }, v)] });

  interface Scenario {
    name: string;
    cls: 'server' | 'client';
    classes: Classes;
    values: number[];
    /** Alert state after each evaluation: - none, P pending, F firing, R resolved. */
    states: string;
    /** [evaluation, from, to] of every transition onChanges reports. */
    notes: Array<[number, AlertState | undefined, AlertState]>;
  }

  const client = { client: { threshold: 5, for: 60_000, keepFiringFor: 0 } };
  const scenarios: Scenario[] = [
    {
      // increase over [now - 1m, now] is 0 until the 1 at k4; for 0: firing in that same evaluation,
      // reported once, as the step from pending to firing.
      name: 'a rising server code fires in the first evaluation that sees it',
      cls: 'server',
      classes: {},
      values: [0, 0, 0, 0, ...rise(8, 1, 1)],
      states: '----FFFFFFFF',
      notes: [[4, 'pending', 'firing']],
    },
    {
      // Increase 3 at k5 (not above 5), 6 from k6: pending at k6, firing once held 1m (k10).
      name: 'a client code over its threshold is pending first, firing only after `for`',
      cls: 'client',
      classes: client,
      values: [...flat(5, 10), ...rise(8, 13, 3)],
      states: '------PPPPFFF',
      notes: [
        [6, undefined, 'pending'],
        [10, 'pending', 'firing'],
      ],
    },
    {
      // Back to an increase of 3 at k9, before `for` ran out: dropped without a notification.
      name: 'a client code that falls back under the threshold before `for` never fires',
      cls: 'client',
      classes: client,
      values: [...flat(5, 10), 13, ...flat(4, 16)],
      states: '------PPP-',
      notes: [[6, undefined, 'pending']],
    },
    {
      // Flat from k4: the increase is 0 from k8 (keep_firing since k8), resolved when 1m has passed (k12).
      name: 'keep_firing_for holds a firing alarm after the counter goes flat, then resolves it',
      cls: 'server',
      classes: { server: { keepFiringFor: 60_000 } },
      values: [0, 0, 0, 0, ...flat(10, 1)],
      states: '----FFFFFFFFRR',
      notes: [
        [4, 'pending', 'firing'],
        [12, 'firing', 'resolved'],
      ],
    },
    {
      // Flat at k8 and k9, an error again at k10 (within keep_firing_for), flat again from k14: resolves
      // 1m after the second flat start, not the first, and nothing is announced in between.
      name: 'errors again within keep_firing_for restart the hold without a new notification',
      cls: 'server',
      classes: { server: { keepFiringFor: 60_000 } },
      values: [0, 0, 0, 0, ...flat(6, 1), ...flat(9, 2)],
      states: '----FFFFFFFFFFFFFFR',
      notes: [
        [4, 'pending', 'firing'],
        [18, 'firing', 'resolved'],
      ],
    },
  ];

  /** Runs a scenario, checking after every evaluation that the database holds what the evaluator does. */
  async function run(s: Scenario, restartAt?: number) {
    const r = rig(rulesOf([code(CODE, s.cls)], s.classes));
    let states = '';
    for (let k = 0; k < s.values.length; k++) {
      if (k === restartAt) {
        const before = r.evaluator.alarms().map(persisted);
        await r.restart();
        expect(r.evaluator.alarms().map(persisted)).toEqual(before);
      }
      await r.step(k, errors(s.values[k]!));
      const a = r.alarm();
      states += letter(a?.state);
      const stored = await r.stored();
      expect(stored && persisted(stored), `stored alarm after evaluation ${k}`).toEqual(a && persisted(a));
    }
    return { r, states };
  }

  it.each(scenarios)('$name', async (s) => {
    const { r, states } = await run(s);
    expect(states).toBe(s.states);
    expect(r.notes.map((n) => [n.step, n.from, n.to])).toEqual(s.notes);
    const id = (await r.stored())?.id;
    for (const n of r.notes) {
      expect(n).toMatchObject({ alertname: ALERT, state: n.to });
      // Every note names the stored row; a dropped pending alarm has none left.
      if (id !== undefined) expect(n.id).toBe(id);
      else expect(n.id).toMatch(/^\d+$/);
    }
    const a = r.alarm();
    const when = (to: AlertState) => r.notes.find((n) => n.to === to)?.step;
    if (a !== undefined) {
      expect(a.labels).toEqual({
        job: 'api',
        code: String(CODE),
        severity: s.cls === 'server' ? 'page' : 'ticket',
        class: s.cls,
      });
      expect(a.annotations.summary).toBe(`svc: error ${CODE} (CODE_${CODE}) is being raised`);
      expect(a.firedAt).toBe(when('firing') === undefined ? undefined : at(when('firing')!));
      expect(a.resolvedAt).toBe(when('resolved') === undefined ? undefined : at(when('resolved')!));
    }
  });

  it.each<[string, number]>([
    ['a rising server code fires in the first evaluation that sees it', 6],
    ['a client code over its threshold is pending first, firing only after `for`', 8],
    ['keep_firing_for holds a firing alarm after the counter goes flat, then resolves it', 10],
    ['errors again within keep_firing_for restart the hold without a new notification', 12],
  ])('a restart changes nothing: %s, restarted before evaluation %i', async (name, restartAt) => {
    const s = scenarios.find((x) => x.name === name)!;
    const { r, states } = await run(s, restartAt);
    expect(states).toBe(s.states);
    // No pending or firing announced twice: the same notes as without the restart.
    expect(r.notes.map((n) => [n.step, n.from, n.to])).toEqual(s.notes);
  });

  it('a restarted evaluator shows the firing alarm with its id and does not announce it again', async () => {
    const r = rig(rulesOf([code(CODE, 'server')]));
    for (let k = 0; k <= 5; k++) await r.step(k, errors(Math.max(0, k - 3)));
    const fired = r.alarm()!;
    expect(fired.state).toBe('firing');
    expect(r.notes).toHaveLength(1);
    await r.restart();
    expect(r.evaluator.alarms()).toEqual([
      expect.objectContaining({ id: fired.id, state: 'firing', firedAt: at(4), activeAt: at(4) }),
    ]);
    await r.step(6, errors(3));
    expect(r.alarm()).toMatchObject({ id: fired.id, state: 'firing' });
    expect(r.notes).toHaveLength(1);
  });

  interface AckCase {
    cls: 'server' | 'client';
    classes: Classes;
    values: number[];
    firingAt: number;
    resolvedAt: number;
    /** The evaluation where errors start again, and the state the alarm is in then. */
    againAt: number;
    again: AlertState;
  }

  /** Acks the alarm once firing; checks the ack survives resolution and a restart, and goes with a new episode. */
  async function ackEpisode(c: AckCase) {
    const r = rig(rulesOf([code(CODE, c.cls)], c.classes));
    let id = '';
    for (let k = 0; k <= c.againAt; k++) {
      await r.step(k, errors(c.values[k]!));
      const a = r.alarm();
      if (k === c.firingAt) {
        expect(a?.state).toBe('firing');
        id = a!.id!;
        expect(await r.evaluator.ack(id, 'me')).toBe(true);
        expect(r.alarm()).toMatchObject({ ackedBy: 'me', ackedAt: new Date(at(k)) });
        expect(await r.stored()).toMatchObject({ id, ackedBy: 'me', ackedAt: new Date(at(k)) });
        await r.restart();
        expect(r.alarm()).toMatchObject({ id, ackedBy: 'me', ackedAt: new Date(at(k)) });
      }
      if (k === c.resolvedAt) {
        expect(a).toMatchObject({ id, state: 'resolved', ackedBy: 'me' });
        // Only an active alarm can be acked.
        expect(await r.evaluator.ack(id, 'you')).toBe(false);
        expect(await r.stored()).toMatchObject({ state: 'resolved', ackedBy: 'me' });
      }
    }
    expect(await r.evaluator.ack('999999999', 'me')).toBe(false);
    expect(r.notes.at(-1)).toMatchObject({ step: c.againAt, id, to: c.again });
    expect(r.alarm()).toMatchObject({ id, state: c.again, ackedBy: null, ackedAt: null });
    expect(await r.stored()).toMatchObject({ id, state: c.again, ackedBy: null, ackedAt: null });
  }

  it('an ack is persisted, kept through resolution, and cleared when the alarm starts again (pending)', async () => {
    await ackEpisode({
      cls: 'client',
      classes: client,
      // Firing at k10, increase 3 at k13 (resolved), 6 again at k17 (pending).
      values: [...flat(5, 10), ...rise(6, 13, 3), ...flat(5, 28), 31, 34],
      firingAt: 10,
      resolvedAt: 13,
      againAt: 17,
      again: 'pending',
    });
  });

  // With `for: 0` a returning alarm goes resolved → pending → firing in one evaluation: the pending step
  // must still clear the old ack in the store (a regression test: it once kept the last transition only).
  it('an ack is cleared when a for-0 (server) alarm resolves and fires again', async () => {
    await ackEpisode({
      cls: 'server',
      classes: { server: { keepFiringFor: 0 } },
      // Firing at k4, flat (increase 0) at k8, an error again at k9.
      values: [0, 0, 0, 0, 1, 1, 1, 1, 1, 2],
      firingAt: 4,
      resolvedAt: 8,
      againAt: 9,
      again: 'firing',
    });
  });

  it.each<[string, () => Rules]>([
    ['its code left the catalog', () => []],
    ['another code stays', () => rulesOf([code(CODE + 1, 'server')])],
  ])('a firing alarm of a rule that is gone resolves at once (%s)', async (_name, next) => {
    const r = rig(rulesOf([code(CODE, 'server')]));
    for (let k = 0; k <= 4; k++) await r.step(k, errors(Math.max(0, k - 3)));
    expect(r.alarm()?.state).toBe('firing');
    const id = r.alarm()!.id;
    r.setRules(next());
    // Still rising: only the rule's removal resolves it.
    await r.step(5, errors(2));
    expect(r.notes.at(-1)).toMatchObject({ step: 5, id, alertname: ALERT, from: 'firing', to: 'resolved' });
    expect(r.alarm()).toMatchObject({ id, state: 'resolved', resolvedAt: at(5) });
    expect(await r.stored()).toMatchObject({ id, state: 'resolved', resolvedAt: at(5) });
    // Kept as resolved as long as Prometheus keeps it, then forgotten, also in the database.
    await r.evaluate(6, at(5) + RESOLVED_RETENTION_MS);
    expect(r.alarm()?.state).toBe('resolved');
    await r.evaluate(7, at(5) + RESOLVED_RETENTION_MS + INTERVAL);
    expect(r.alarm()).toBeUndefined();
    expect(await r.stored()).toBeUndefined();
    expect(r.notes).toHaveLength(2);
  });

  it.each<[string, boolean, boolean, number]>([
    ['with rules', true, false, 4],
    ['without rules (the counter is still read)', false, false, 4],
    ['without a target discovery dropped', true, true, 2],
  ])('overseer_alarm_series counts the errors_total series read: %s', async (_n, withRules, gone, want) => {
    const r = rig(withRules ? rulesOf([code(1, 'server'), code(2, 'client')]) : []);
    r.targets.push({ id: 't2', job: 'web', goneSince: gone ? at(0) : undefined });
    const scrape = (v: number) => ({
      t1: [sample({ code: '1' }, v), sample({ code: '2' }, v), sample({ code: '1' }, v, 'requests_total')],
      t2: [sample({ code: '1' }, v), sample({ path: '/' }, v), sample({ code: '1' }, v, 'other_total')],
    });
    for (let k = 0; k <= 2; k++) await r.step(k, scrape(k));
    const metric = await r.registry().getSingleMetric('overseer_alarm_series')!.get();
    expect(metric.values).toEqual([expect.objectContaining({ value: want })]);
    const cycles = await r.registry().getSingleMetric('overseer_alarm_evaluations_total')!.get();
    expect(cycles.values).toEqual([expect.objectContaining({ labels: { result: 'success' }, value: 3 })]);
  });
});
