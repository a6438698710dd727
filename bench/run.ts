// `npm run bench [-- <scenario>…]`: runs the scenarios, prints each result next to its baseline from the
// same run, and writes bench/results.json. Exit 1 when a goal is missed or a scenario failed.
import { fileURLToPath } from 'node:url';
import { alarmsScenario } from './alarms/scenario.js';
import { billingApiScenario } from './billing/api-scenario.js';
import { billingIngestScenario } from './billing/ingest-scenario.js';
import { capacityScenario } from './capacity/scenario.js';
import { cleanupAll, installCleanupHandlers } from './lib/cleanup.js';
import { progress } from './lib/progress.js';
import { logsScenario } from './logs/scenario.js';
import { environment, formatResult, saveResults, type ScenarioRecord } from './lib/results.js';
import type { Scenario } from './lib/scenario.js';
import { parseScenario } from './parse/scenario.js';
import { scrapeScenario } from './scrape/scenario.js';

const SCENARIOS: Scenario[] = [
  parseScenario,
  scrapeScenario,
  alarmsScenario,
  billingIngestScenario,
  billingApiScenario,
  capacityScenario,
  logsScenario,
];
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

function usage(): string {
  return [
    'usage: npm run bench [-- <scenario>…]',
    ...SCENARIOS.map((s) => `  ${s.name.padEnd(15)} ${s.description}`),
  ].join('\n');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const unknown = args.filter((a) => !SCENARIOS.some((s) => s.name === a));
  if (unknown.length) {
    process.stderr.write(`unknown scenario ${unknown.join(', ')}\n${usage()}\n`);
    return 2;
  }
  installCleanupHandlers();
  const chosen = args.length ? SCENARIOS.filter((s) => args.includes(s.name)) : SCENARIOS;
  const records: Record<string, ScenarioRecord> = {};
  let ok = true;
  for (const scenario of chosen) {
    progress(`scenario ${scenario.name}: ${scenario.description}`);
    const env = environment();
    try {
      const results = await scenario.run();
      records[scenario.name] = { environment: env, results };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      progress(`scenario ${scenario.name} failed: ${message}`);
      records[scenario.name] = {
        environment: env,
        results: [
          {
            name: scenario.name,
            unit: '',
            value: null,
            baseline: { name: '', value: null },
            ratioOf: '',
            ratio: null,
            goal: null,
            pass: false,
            error: message,
          },
        ],
      };
    }
    for (const r of records[scenario.name]?.results ?? []) {
      process.stdout.write(`${formatResult(scenario.name, r)}\n`);
      if (r.pass === false) ok = false;
    }
    await saveResults(RESULTS_FILE, records);
  }
  process.stdout.write(`results: ${RESULTS_FILE}\n`);
  return ok ? 0 : 1;
}

const code = await main().finally(cleanupAll);
process.exit(code);
