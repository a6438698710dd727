import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { AppliedChange } from '../capacity/routing-table.js';
import { parseDuration } from '../config/units.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { drainHost } from './capacity-drain.js';
import {
  moveLine,
  renderAssignments,
  renderPlan,
  type AssignmentsView,
  type PlanView,
} from './capacity-render.js';
import { capacitySimulateCommand } from './capacity-simulate.js';
import type { ApiClient } from './client.js';
import { clientFor, type CliContext, type GlobalOptions } from './context.js';
import { processOutput } from './output.js';

type SetExit = (code: number) => void;

function badArg(message: string, hint: string): never {
  throw new OverseerError(ErrorCodes.CAPACITY_CLI_ARG_INVALID, message, { hint, exitCode: 2 });
}

function count(text: string): number {
  if (/^\d{1,4}$/.test(text)) return Number(text);
  return badArg(
    `${JSON.stringify(text)} is not a host count`,
    'give a whole number ≥ 0, e.g. overseer capacity dedicate t1 2',
  );
}

function durationArg(option: string, text: string): number {
  const ms = parseDuration(text);
  return ms !== undefined && ms > 0
    ? ms
    : badArg(`${option} ${JSON.stringify(text)} is not a duration`, 'e.g. 30s, 10m, 1h');
}

const path = (...parts: string[]): string => `/api/v1/capacity/${parts.map(encodeURIComponent).join('/')}`;

const changed = (r: AppliedChange): string =>
  r.version === r.previous ? 'no change' : `routing version ${r.version}`;

/** Reads y/yes from the terminal; only called when stdin and stdout are one. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function capacityCommands(program: Command, ctx: CliContext, setExit: SetExit): void {
  const capacity = program
    .command('capacity')
    .description('capacity: hosts and their tenants, the plan, and admin overrides (through the API)');
  const run = (fn: (client: ApiClient, g: GlobalOptions) => Promise<void>) => async (cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    await fn(await clientFor(ctx, g), g);
  };
  const print = (g: GlobalOptions, json: unknown, text: string): void =>
    ctx.output.out(g.json ? JSON.stringify(json, null, 2) : text);

  capacity
    .command('show')
    .description('hosts with CPU and memory bars, state, pool and their tenants')
    .action((_o: unknown, cmd: Command) =>
      run(async (c, g) => {
        const v = await c.request<AssignmentsView>('GET', path('assignments'));
        print(g, v, renderAssignments(v));
      })(cmd),
    );

  capacity
    .command('plan')
    .description('the current plan as a diff against the routing table (dry run: changes nothing)')
    .action((_o: unknown, cmd: Command) =>
      run(async (c, g) => {
        const v = await c.request<PlanView>('GET', path('plan'));
        print(g, v, renderPlan(v));
      })(cmd),
    );

  capacity
    .command('apply')
    .description('apply the current plan: asks first on a terminal; --yes to apply without asking')
    .option('-y, --yes', 'apply without asking (required when not on a terminal)')
    .action((o: { yes?: boolean }, cmd: Command) =>
      run(async (c, g) => {
        const v = await c.request<PlanView>('GET', path('plan'));
        const p = v.plan;
        if (p === null || p.moves.length === 0 || p.appliedVersion !== null) {
          print(
            g,
            { applied: false, plan: p },
            p?.appliedVersion ? `already applied as version ${p.appliedVersion}` : renderPlan(v),
          );
          return;
        }
        if (p.basedOn !== v.version) {
          // The server would refuse it (the table changed since): say why, and that a new plan is coming.
          print(g, { applied: false, plan: p, version: v.version }, renderPlan(v));
          setExit(1);
          return;
        }
        if (!g.json) ctx.output.out(renderPlan(v));
        if (!o.yes) {
          const tty =
            ctx.output === processOutput && process.stdin.isTTY === true && process.stdout.isTTY === true;
          if (!tty)
            throw new OverseerError(
              ErrorCodes.CAPACITY_APPLY_UNCONFIRMED,
              'not applied: confirmation needed',
              {
                hint: 'not on a terminal, so nobody can be asked: pass --yes to apply this plan',
                exitCode: 2,
              },
            );
          if (!(await confirm(`apply ${p.moves.length} move(s) of plan ${p.planId}? [y/N] `))) {
            ctx.output.err('not applied');
            setExit(1);
            return;
          }
        }
        const r = await c.request<AppliedChange & { planId: string }>('POST', path('apply'), {
          planId: p.planId,
        });
        print(g, { applied: true, ...r }, `applied ${r.moves.length} move(s): ${changed(r)}`);
      })(cmd),
    );

  capacity
    .command('move')
    .description('move a tenant to a host: off --from, or off its most loaded host')
    .argument('<tenant>')
    .requiredOption('--to <host>', 'destination host')
    .option('--from <host>', 'the host it leaves (default: its most loaded one)')
    .action((tenant: string, o: { to: string; from?: string }, cmd: Command) =>
      run(async (c, g) => {
        const r = await c.request<AppliedChange>('POST', path('tenants', tenant, 'move'), {
          to: o.to,
          ...(o.from === undefined ? {} : { from: o.from }),
        });
        print(
          g,
          r,
          r.moves
            .map((m) => `${m.tenant}: ${moveLine(m)}`)
            .concat(changed(r))
            .join('\n'),
        );
      })(cmd),
    );

  capacity
    .command('drain')
    .description('move every tenant off a host (within the move budgets) and show progress until it is empty')
    .argument('<host>')
    .option('--timeout <duration>', 'give up waiting after this long (the host stays draining)', '10m')
    .option('--poll <duration>', 'how often to look', '2s')
    .option('--no-wait', 'mark the host draining and return')
    .action((host: string, o: { timeout: string; poll: string; wait: boolean }, cmd: Command) =>
      run(async (c, g) => {
        const timeoutMs = durationArg('--timeout', o.timeout);
        const pollMs = durationArg('--poll', o.poll);
        if (!o.wait) {
          const s = await c.request('POST', path('hosts', host, 'drain'));
          print(g, s, `${host} draining`);
          return;
        }
        const r = await drainHost(ctx, c, { host, timeoutMs, pollMs, json: g.json === true });
        print(g, r, `${host} drained: ${r.moved} tenant(s) moved in ${r.seconds}s`);
      })(cmd),
    );

  for (const action of ['cordon', 'uncordon'] as const)
    capacity
      .command(action)
      .description(
        action === 'cordon'
          ? 'no new tenants on a host (its tenants stay)'
          : 'take a host back into service (ends a drain)',
      )
      .argument('<host>')
      .action((host: string, _o: unknown, cmd: Command) =>
        run(async (c, g) => {
          const s = await c.request('POST', path('hosts', host, action));
          print(g, s, `${host} ${action}ed`);
        })(cmd),
      );

  capacity
    .command('pool')
    .description('put a host in the shared or the dedicated pool (optionally dedicated to one tenant)')
    .argument('<host>')
    .argument('<pool>', 'shared or dedicated')
    .option('--tenant <tenant>', 'the tenant a dedicated host serves')
    .action((host: string, pool: string, o: { tenant?: string }, cmd: Command) =>
      run(async (c, g) => {
        if (pool !== 'shared' && pool !== 'dedicated')
          badArg(
            `pool ${JSON.stringify(pool)} is neither shared nor dedicated`,
            'overseer capacity pool <host> shared|dedicated [--tenant t]',
          );
        const s = await c.request('PUT', path('hosts', host), { pool, dedicatedTo: o.tenant ?? null });
        print(g, s, `${host} in the ${pool} pool${o.tenant ? ` for ${o.tenant}` : ''}`);
      })(cmd),
    );

  const tenantUpdate = async (c: ApiClient, g: GlobalOptions, tenant: string, body: object, text: string) => {
    const r = await c.request<{ version: number | null; moves: AppliedChange['moves'] }>(
      'PUT',
      path('tenants', tenant),
      body,
    );
    print(
      g,
      r,
      [
        text,
        ...r.moves.map((m) => `${m.tenant}: ${moveLine(m)}`),
        ...(r.version === null ? [] : [`routing version ${r.version}`]),
      ].join('\n'),
    );
  };

  capacity
    .command('pin')
    .description('run a tenant on exactly these hosts; the planner never moves it')
    .argument('<tenant>')
    .argument('<hosts...>')
    .action((tenant: string, hosts: string[], _o: unknown, cmd: Command) =>
      run((c, g) => tenantUpdate(c, g, tenant, { pinned: hosts }, `${tenant} pinned to ${hosts.join(' ')}`))(
        cmd,
      ),
    );
  capacity
    .command('unpin')
    .description('let the planner place a pinned tenant again')
    .argument('<tenant>')
    .action((tenant: string, _o: unknown, cmd: Command) =>
      run((c, g) => tenantUpdate(c, g, tenant, { pinned: [] }, `${tenant} unpinned`))(cmd),
    );
  capacity
    .command('dedicate')
    .description('give a tenant n hosts of the dedicated pool (0: back to shared hosts)')
    .argument('<tenant>')
    .argument('<n>')
    .action((tenant: string, n: string, _o: unknown, cmd: Command) =>
      run((c, g) => tenantUpdate(c, g, tenant, { dedicated: count(n) }, `${tenant} dedicated: ${n}`))(cmd),
    );

  for (const frozen of [true, false])
    capacity
      .command(frozen ? 'freeze' : 'unfreeze')
      .description(frozen ? 'the planner proposes no move (for everyone, or one tenant)' : 'end a freeze')
      .option('--tenant <tenant>', 'only this tenant')
      .action((o: { tenant?: string }, cmd: Command) =>
        run(async (c, g) => {
          const word = frozen ? 'frozen' : 'unfrozen';
          if (o.tenant !== undefined) return tenantUpdate(c, g, o.tenant, { frozen }, `${o.tenant} ${word}`);
          const r = await c.request('PUT', path('freeze'), { frozen });
          print(g, r, `capacity ${word}`);
        })(cmd),
      );

  capacitySimulateCommand(capacity, ctx);
}
