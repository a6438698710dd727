import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { generateToken, type TokenStore } from './tokens.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * On first start, writes a new admin token to `<dataDir>/admin-token` (mode 0600) — created exclusively, so
 * two replicas sharing a data dir never overwrite each other's. On later starts, re-registers the file's
 * token (the database may be new, e.g. after switching from PGlite to Postgres). Returns the file path.
 */
export async function ensureAdminToken(deps: {
  dataDir: string;
  tokens: TokenStore;
  logger: Logger;
}): Promise<string> {
  const file = path.join(deps.dataDir, ADMIN_TOKEN_FILE);
  await mkdir(deps.dataDir, { recursive: true, mode: 0o700 });
  let token: string;
  try {
    token = generateToken();
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    deps.logger.info({ file }, 'generated the admin token');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    token = (await readFile(file, 'utf8')).trim();
    const { mode } = await stat(file);
    if ((mode & 0o077) !== 0) {
      await chmod(file, 0o600);
      deps.logger.warn(
        { file, mode: (mode & 0o777).toString(8) },
        'admin token file was readable by others; set to 0600',
      );
    }
  }
  await deps.tokens.ensure('admin (bootstrap)', 'admin', token);
  return file;
}

/** Reads the admin token the service wrote, for the CLI; undefined when there is none. */
export async function readAdminToken(dataDir: string): Promise<string | undefined> {
  try {
    const t = (await readFile(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
    return t || undefined;
  } catch {
    return undefined;
  }
}
