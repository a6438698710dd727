import type { TestProject } from 'vitest/node';
import { startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

let cluster: PgCluster | undefined;

/**
 * One throwaway Postgres cluster for the whole run, unless DATABASE_URL points at one already.
 * Each test file makes its own database in it (test/helpers/test-db.ts), so files run in parallel.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    cluster = await startPgCluster();
    url = cluster.url;
  }
  project.provide('adminDatabaseUrl', url);
  return async () => {
    await cluster?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}
