import type { Command } from 'commander';
import { clientFor, type CliContext, type GlobalOptions } from './context.js';
import { table } from './output.js';

interface AlarmRow {
  id: string | null;
  alertname: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  activeAt: string | null;
  firedAt: string | null;
  ackedBy: string | null;
}

export function alarmCommands(program: Command, ctx: CliContext): void {
  const alarms = program
    .command('alarms')
    .description('alarms of the built-in evaluator: list and acknowledge');
  alarms
    .command('list')
    .description('alarms with state, labels, where the code is raised, and who acknowledged them')
    .option('--state <state>', 'pending, firing or resolved')
    .action(async (o: { state?: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const query = o.state ? `?state=${encodeURIComponent(o.state)}` : '';
      const res = await (
        await clientFor(ctx, opts)
      ).request<{ alarms: AlarmRow[] }>('GET', `/api/v1/alarms${query}`);
      if (opts.json) {
        ctx.output.out(JSON.stringify(res.alarms, null, 2));
        return;
      }
      ctx.output.out(
        res.alarms.length === 0
          ? 'no alarms'
          : table(
              ['ID', 'ALERT', 'STATE', 'JOB', 'SEVERITY', 'SOURCE', 'SINCE', 'ACKED BY'],
              res.alarms.map((a) => [
                a.id,
                a.alertname,
                a.state,
                a.labels.job,
                a.labels.severity,
                a.annotations.source,
                a.firedAt ?? a.activeAt,
                a.ackedBy,
              ]),
            ),
      );
    });
  alarms
    .command('silence')
    .description('silence notifications for alarms matching Alertmanager matchers, for a while')
    .argument('<matchers>', 'e.g. \'{alertname="ErrorCode104211", job=~"billing.*"}\'')
    .requiredOption('--duration <d>', 'how long, e.g. 30m, 2h')
    .requiredOption('--comment <text>', 'why (shown to the rest of on-call)')
    .action(async (matchers: string, o: { duration: string; comment: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const s = await (
        await clientFor(ctx, opts)
      ).request<{ id: string; endsAt: string }>('POST', '/api/v1/silences', {
        matchers,
        duration: o.duration,
        comment: o.comment,
      });
      ctx.output.out(opts.json ? JSON.stringify(s) : `silence ${s.id} until ${s.endsAt}`);
    });
  alarms
    .command('silences')
    .description('list silences with their matchers, window and status')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const { silences } = await (
        await clientFor(ctx, opts)
      ).request<{
        silences: Array<{
          id: string;
          matchers: Array<{ name: string; type: string; value: string }>;
          endsAt: string;
          status: string;
          createdBy: string;
          comment: string;
        }>;
      }>('GET', '/api/v1/silences');
      ctx.output.out(
        opts.json
          ? JSON.stringify(silences, null, 2)
          : table(
              ['ID', 'STATUS', 'MATCHERS', 'ENDS', 'BY', 'COMMENT'],
              silences.map((s) => [
                s.id,
                s.status,
                s.matchers.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(','),
                s.endsAt,
                s.createdBy,
                s.comment,
              ]),
            ),
      );
    });
  alarms
    .command('unsilence')
    .description('expire a silence now')
    .argument('<id>', 'silence id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      await (await clientFor(ctx, opts)).request('DELETE', `/api/v1/silences/${encodeURIComponent(id)}`);
      ctx.output.out(`silence ${id} expired`);
    });
  alarms
    .command('ack')
    .description('acknowledge an alarm: no repeated notifications until it resolves')
    .argument('<id>', 'alarm id from overseer alarms list')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const res = await (
        await clientFor(ctx, opts)
      ).request<{ id: string; ackedBy: string }>('POST', `/api/v1/alarms/${encodeURIComponent(id)}/ack`);
      ctx.output.out(opts.json ? JSON.stringify(res) : `alarm ${res.id} acknowledged by ${res.ackedBy}`);
    });
}
