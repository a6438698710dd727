import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ProcNodeExporter } from '../src/collector/proc-node-exporter.js';
import { describeWithBinaries } from './helpers/integration.js';
import { freePort } from './helpers/pg-cluster.js';
import { waitFor } from './helpers/poll.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Exposition {
  help: Map<string, string>;
  type: Map<string, string>;
  /** Family names in the order they appear. */
  order: string[];
  samples: Sample[];
}

/** Just enough of the text format for what node_exporter and we write; not the project's parser on purpose. */
function parse(text: string): Exposition {
  const out: Exposition = { help: new Map(), type: new Map(), order: [], samples: [] };
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (kind === 'TYPE') out.order.push(name);
      (kind === 'HELP' ? out.help : out.type).set(name, rest);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) continue;
    const labels: Record<string, string> = {};
    for (const [, k = '', v = ''] of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.samples.push({ name: sample[1] ?? '', labels, value: Number(sample[3]) });
  }
  return out;
}

function cpuKey(s: Sample): string {
  return `${s.labels.cpu}/${s.labels.mode}`;
}

describeWithBinaries(['nodeExporter'], 'ProcNodeExporter against the real node_exporter', (bins) => {
  let ne: ChildProcess | undefined;
  let url: string;
  let ours: Exposition;
  let theirs: Exposition;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/metrics`;
    const collectors = ['cpu', 'meminfo', 'loadavg', 'stat', 'time', 'uname'].map((c) => `--collector.${c}`);
    ne = spawn(
      bins.nodeExporter,
      [`--web.listen-address=127.0.0.1:${port}`, '--collector.disable-defaults', ...collectors],
      {
        stdio: 'ignore',
      },
    );
    await waitFor(
      'node_exporter /metrics',
      async () => {
        const res = await fetch(url).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      { timeoutMs: 15_000 },
    );
    // Back to back, so the CPU counters of the two reads differ by milliseconds.
    const [theirText, ourText] = await Promise.all([
      fetch(url).then((r) => r.text()),
      new ProcNodeExporter().render(),
    ]);
    theirs = parse(theirText);
    ours = parse(ourText);
  });

  afterAll(async () => {
    const child = ne;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  it('emits the families node_exporter does, with identical HELP and TYPE, in the same order', () => {
    for (const name of [
      'node_cpu_seconds_total',
      'node_memory_MemTotal_bytes',
      'node_load1',
      'node_boot_time_seconds',
      'node_uname_info',
    ]) {
      expect(ours.type.has(name), name).toBe(true);
    }
    const shared = ours.order.filter((n) => theirs.type.has(n));
    expect(shared).toEqual(ours.order); // everything we emit, node_exporter emits too
    for (const name of shared) {
      expect({ name, help: ours.help.get(name), type: ours.type.get(name) }).toEqual({
        name,
        help: theirs.help.get(name),
        type: theirs.type.get(name),
      });
    }
    expect(theirs.order.filter((n) => ours.type.has(n))).toEqual(ours.order);
  });

  it('mangles the same set of /proc/meminfo fields into the same names', () => {
    const memory = (e: Exposition): string[] => e.order.filter((n) => n.startsWith('node_memory_'));
    expect(memory(ours)).toEqual(memory(theirs));
  });

  it('agrees on values: MemTotal exactly, CPU seconds within 0.5 s, uname labels exactly', () => {
    const one = (e: Exposition, name: string): Sample | undefined => e.samples.find((s) => s.name === name);
    expect(one(ours, 'node_memory_MemTotal_bytes')?.value).toBe(
      one(theirs, 'node_memory_MemTotal_bytes')?.value,
    );
    expect(one(ours, 'node_boot_time_seconds')?.value).toBe(one(theirs, 'node_boot_time_seconds')?.value);
    expect(one(ours, 'node_uname_info')).toEqual(one(theirs, 'node_uname_info'));

    const cpu = (e: Exposition): Sample[] => e.samples.filter((s) => s.name === 'node_cpu_seconds_total');
    expect(cpu(ours).map((s) => Object.keys(s.labels))).toEqual(
      cpu(theirs).map((s) => Object.keys(s.labels)),
    );
    expect(cpu(ours).map(cpuKey)).toEqual(cpu(theirs).map(cpuKey));
    expect(cpu(ours).length).toBeGreaterThan(0);
    const theirValues = new Map(cpu(theirs).map((s) => [cpuKey(s), s.value]));
    for (const s of cpu(ours)) {
      expect(Math.abs(s.value - (theirValues.get(cpuKey(s)) ?? Number.NaN)), cpuKey(s)).toBeLessThanOrEqual(
        0.5,
      );
    }
  });
});
