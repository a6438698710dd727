import type { Result } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';
import { keepUp } from './keep-up.js';
import { throughput } from './throughput.js';

async function run(): Promise<Result[]> {
  return [...(await throughput()), ...(await keepUp())];
}

export const logsScenario: Scenario = {
  name: 'logs',
  description:
    'overseer/logging throughput with rotation + gzip + upload vs plain pino; shipper keeps up with 100 MB/min',
  run,
};
