import type { Command } from 'commander';
import type { TokenInfo } from '../http/tokens.js';
import { clientFor, type CliContext, type GlobalOptions } from './context.js';
import { table } from './output.js';

export function tokenCommands(program: Command, ctx: CliContext): void {
  program
    .command('whoami')
    .description('show the name and role of the token in use')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const me = await (
        await clientFor(ctx, opts)
      ).request<{ name: string; role: string }>('GET', '/api/v1/whoami');
      ctx.output.out(opts.json ? JSON.stringify(me) : `${me.name} (${me.role})`);
    });

  const tokens = program.command('tokens').description('manage API tokens (admin)');
  tokens
    .command('list')
    .description('list tokens (never their secrets)')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const res = await (
        await clientFor(ctx, opts)
      ).request<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens');
      ctx.output.out(
        opts.json
          ? JSON.stringify(res.tokens, null, 2)
          : table(
              ['ID', 'NAME', 'ROLE', 'CREATED', 'LAST USED', 'REVOKED'],
              res.tokens.map((t) => [t.id, t.name, t.role, t.createdAt, t.lastUsedAt, t.revokedAt]),
            ),
      );
    });
  tokens
    .command('create')
    .description('create a token; prints it once')
    .requiredOption('--name <name>', 'who or what uses it')
    .requiredOption('--role <role>', 'admin, operator, viewer or tenant:<id>')
    .action(async (o: { name: string; role: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const res = await (
        await clientFor(ctx, opts)
      ).request<{ id: number; token: string; role: string }>('POST', '/api/v1/tokens', {
        name: o.name,
        role: o.role,
      });
      ctx.output.out(opts.json ? JSON.stringify(res) : res.token);
    });
  tokens
    .command('revoke')
    .description('revoke a token by id')
    .argument('<id>', 'token id (see tokens list)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const res = await (
        await clientFor(ctx, opts)
      ).request<{ revoked: boolean }>('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
      ctx.output.out(
        opts.json ? JSON.stringify(res) : res.revoked ? `revoked token ${id}` : `token ${id} was not live`,
      );
    });
}
