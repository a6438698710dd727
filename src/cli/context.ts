import { loadConfig, type LoadedConfig } from '../config.js';
import { readAdminToken } from '../http/admin-token.js';
import { ApiClient } from './client.js';
import type { Output } from './output.js';

/** What a CLI command gets: its environment, where to print, and the global options. */
export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  output: Output;
  /** Takes over SIGTERM/SIGINT and resolves with the first one; `serve` waits on it. */
  stopSignal: () => Promise<string>;
  /** Reads standard input (for `-` file arguments); tests inject it. Defaults to process.stdin. */
  stdin?: () => Promise<Buffer>;
}

export interface GlobalOptions {
  config?: string;
  server?: string;
  token?: string;
  json?: boolean;
}

export function configFor(ctx: CliContext, opts: GlobalOptions): LoadedConfig {
  return loadConfig(opts.config, ctx.env);
}

/** --server / OVERSEER_URL, else the configured listen address; --token / OVERSEER_TOKEN, else the admin token file. */
export async function clientFor(ctx: CliContext, opts: GlobalOptions): Promise<ApiClient> {
  const { config } = configFor(ctx, opts);
  const listen = config.server.listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
  const baseUrl = opts.server ?? ctx.env.OVERSEER_URL ?? `http://${listen}`;
  const token = opts.token ?? ctx.env.OVERSEER_TOKEN ?? (await readAdminToken(config.dataDir));
  return new ApiClient({ baseUrl, token });
}
