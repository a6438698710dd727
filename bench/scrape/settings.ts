export interface ScrapeSettings {
  targets: number;
  series: number;
  intervalS: number;
  timeoutS: number;
  rounds: number;
  gzip: boolean;
  only: 'prometheus' | 'overseer' | undefined;
  prometheusBin: string;
}

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name}=${raw}: want an integer in ${min}..${max}`);
  return n;
}

/** Defaults are the scenario as specified; the env knobs exist for shorter trial runs. */
export function scrapeSettings(): ScrapeSettings {
  const intervalS = intEnv('BENCH_INTERVAL_S', 15, 2, 60);
  const only = process.env.BENCH_SCRAPE_ONLY;
  if (only !== undefined && only !== 'prometheus' && only !== 'overseer')
    throw new Error(`BENCH_SCRAPE_ONLY=${only}: want prometheus or overseer`);
  return {
    targets: intEnv('BENCH_TARGETS', 1000, 1, 5000),
    series: intEnv('BENCH_SERIES', 800, 50, 10_000),
    intervalS,
    timeoutS: Math.min(10, Math.floor((intervalS * 2) / 3)),
    rounds: intEnv('BENCH_ROUNDS', 4, 1, 40),
    gzip: process.env.BENCH_GZIP !== '0',
    only,
    prometheusBin: process.env.BENCH_PROMETHEUS ?? '/usr/bin/prometheus',
  };
}
