import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOverseer, spawnOverseer } from './helpers/cli-process.js';
import { readBucket } from './helpers/logs-bucket.js';
import { startNumberedWriter } from './helpers/logs-writer.js';
import { startS3rver, type S3rverInstance } from './helpers/s3rver.js';
import { seededRandom } from './helpers/prng.js';

/**
 * The no-loss test. A service writes N numbered lines through `overseer/logging` across ~200 rotations
 * while `overseer logs ship` runs over and over against s3rver: most runs are SIGKILLed at a random
 * moment (the seed picks each kill's delay; where in the pass that delay lands depends on the machine, so
 * a seed does not replay a run exactly), and S3 is down (killed, then restarted on the same port and data) for a stretch of
 * runs in the middle. Once the writer is done and S3 is back, runs go on unkilled until one ships
 * everything. Then every line 1..N must be in the bucket exactly once.
 *
 * Duplicates: none may appear. The only repeat the shipper can make is a whole-file re-upload of the same
 * .gz under the same key (its `uploaded` journal line was cut off by a kill; usually the HEAD check
 * finds the object first and nothing is sent again), which overwrites the object. So across the distinct
 * objects of the bucket each line appears exactly once, and that is what is asserted.
 */

const N = 20_000;
const SEED = Number(process.env.LOGS_NO_LOSS_SEED ?? 20261125);
const PREFIX = 'noloss/';
const OUTAGE_RUNS = { from: 3, to: 8 }; // S3 down before run 3, back before run 8

describe('no lost log line (SIGKILLed shippers, S3 outage)', () => {
  let s3: S3rverInstance;
  const root = mkdtempSync(path.join(tmpdir(), 'overseer-no-loss-'));
  const logs = path.join(root, 'logs');
  const dataDir = path.join(root, 'data');
  const config = path.join(root, 'overseer.yaml');
  const env = {
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_EC2_METADATA_DISABLED: 'true',
  };

  beforeAll(async () => {
    s3 = await startS3rver({ bucket: 'noloss' });
    mkdirSync(logs);
    writeFileSync(
      config,
      [
        `dataDir: ${JSON.stringify(dataDir)}`,
        'logs:',
        `  dirs: [${JSON.stringify(logs)}]`,
        '  localRetention: 0s',
        `  s3: { bucket: ${s3.bucket}, prefix: ${PREFIX}, region: ${s3.region}, endpoint: "${s3.endpoint}",`,
        '        forcePathStyle: true, requestChecksumCalculation: WHEN_REQUIRED }',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await s3?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it(`keeps every one of ${N} lines, each exactly once in the bucket (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    const writer = startNumberedWriter(
      { dir: logs, service: 'svc', lines: N, perTick: 200, tickMs: 100, maxBytes: 16 * 1024, pad: 40 },
      root,
    );
    let writerDone = false;
    void writer.exited.then(() => (writerDone = true));

    const deadline = Date.now() + 45_000;
    const outcome = { kills: 0, killedMidPass: 0, exit0: 0, exit3: 0 };
    for (let run = 0; ; run++) {
      if (run === OUTAGE_RUNS.from) await s3.crash();
      if (run === OUTAGE_RUNS.to) await s3.restart();
      // Kills while the writer writes; after it is done (and S3 is back) the shipper gets to finish.
      const recovering = writerDone && run > OUTAGE_RUNS.to;
      const p = spawnOverseer(['--config', config, 'logs', 'ship'], env, root);
      const kill = (): void => void p.child.kill('SIGKILL');
      let timer: NodeJS.Timeout | undefined;
      // The first run of the outage is spared, so that one surely meets it (and exits 3, files kept).
      const dice = recovering || run === OUTAGE_RUNS.from ? 1 : random();
      if (dice < 0.4) {
        // Anywhere: at start-up, opening the journal, taking the lock, mid-pass or after it.
        timer = setTimeout(kill, 100 + random() * 1400);
      } else if (dice < 0.8) {
        // In the middle of the pass: shortly after its first progress line (a file found or shipped).
        const delay = random() * 150;
        const onData = (): void => {
          if (!p.stderr().includes('files shipped')) return;
          p.child.stderr!.off('data', onData);
          timer = setTimeout(kill, delay);
        };
        p.child.stderr!.on('data', onData);
      }
      const code = await p.exited;
      clearTimeout(timer);
      if (p.child.signalCode === 'SIGKILL') {
        outcome.kills++;
        if (p.stderr().includes('files shipped')) outcome.killedMidPass++;
      } else {
        // 3: some files failed (S3 down) and wait on disk. 2 would mean the lock of a killed run was not
        // recognised as stale.
        expect([0, 3], `run ${run} exited ${code}: ${p.stderr()}`).toContain(code);
        if (code === 0) outcome.exit0++;
        else outcome.exit3++;
        if (recovering && code === 0) break;
      }
      if (Date.now() > deadline) throw new Error(`not done by the deadline: ${JSON.stringify(outcome)}`);
    }
    expect(await writer.exited, writer.stderr()).toBe(0);

    // Nothing waits any more: every journaled file is uploaded, and only the (empty) active file is left.
    const status = await runOverseer(['--config', config, '--json', 'logs', 'status'], env, root);
    const rows = JSON.parse(status.stdout) as Array<{ state: string }>;
    expect(rows.filter((r) => r.state !== 'uploaded')).toEqual([]);
    expect(readdirSync(logs)).toEqual(['svc.log']);
    const outbox = path.join(dataDir, 'logs', 'outbox');
    expect(existsSync(outbox) ? readdirSync(outbox) : []).toEqual([]);

    const objects = await readBucket(s3, PREFIX);
    expect(objects.length).toBeGreaterThan(100); // many rotations
    expect(objects.filter((o) => !o.sha256Matches).map((o) => o.key)).toEqual([]);
    for (const o of objects)
      expect(o.key).toMatch(
        /^noloss\/svc\/[A-Za-z0-9-]+\/\d{4}\/\d\d\/\d\d\/\d\d\/svc\.\d{8}T\d{6}Z\.[A-Za-z0-9-]+\.\d{6}\.log\.gz$/,
      );
    const seen = new Map<number, number>();
    for (const o of objects)
      for (const line of o.text.split('\n'))
        if (line !== '') {
          const n = (JSON.parse(line) as { n: number }).n;
          seen.set(n, (seen.get(n) ?? 0) + 1);
        }
    const missing = Array.from({ length: N }, (_, i) => i + 1).filter((n) => !seen.has(n));
    const twice = [...seen].filter(([, c]) => c > 1).map(([n]) => n);
    expect({ missing: missing.slice(0, 20), twice: twice.slice(0, 20), lines: seen.size }).toEqual({
      missing: [],
      twice: [],
      lines: N,
    });
    // The chaos happened: kills, some in the middle of a pass, and runs that met the outage.
    expect(outcome.kills, JSON.stringify(outcome)).toBeGreaterThanOrEqual(4);
    expect(outcome.killedMidPass, JSON.stringify(outcome)).toBeGreaterThanOrEqual(2);
    expect(outcome.exit3, JSON.stringify(outcome)).toBeGreaterThanOrEqual(1);
  });
});
