/**
 * This machine's node metrics from /proc in Prometheus text format 0.0.4, under node_exporter 1.5's metric
 * names, HELP texts and TYPEs, so Overseer can scrape itself when no targets are configured and dashboards
 * and alarms written for a real node_exporter work unchanged.
 */
import { readFile } from 'node:fs/promises';
import { machine } from 'node:os';
import * as path from 'node:path';
import { systemClock, type Clock } from '../clock.js';

export interface ProcReader {
  readFile(path: string): Promise<string>;
}

export interface ProcNodeExporterOptions {
  /** Default '/proc'. */
  procRoot?: string;
  reader?: ProcReader;
  /** Clock ticks per second in /proc/stat; default 100, as node_exporter assumes. */
  userHz?: number;
  clock?: Clock;
}

export const PROC_EXPORTER_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Type = 'counter' | 'gauge';
type Labels = Record<string, string>;
interface Family {
  help: string;
  type: Type;
  samples: Array<{ labels: Labels; value: number }>;
}

/** /proc/stat's column order. Guest time is already counted in user and nice, so it adds no mode here. */
const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
const IDLE = CPU_MODES.indexOf('idle');
/** node_exporter reads an idle drop this large as a hotplugged CPU and starts its counters afresh. */
const JUMP_BACK_SECONDS = 3;

// Checked before Number(), which would also take '', '0x10', '1e3' and 'Infinity': silently wrong values.
const DECIMAL = /^\d+(\.\d+)?$/;
const INTEGER = /^\d+$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

// A Map, not an object literal, so a line keyed "constructor" or "__proto__" finds nothing.
const STAT_LINES = new Map<string, [string, string, Type]>([
  ['btime', ['node_boot_time_seconds', 'Node boot time, in unixtime.', 'gauge']],
  ['ctxt', ['node_context_switches_total', 'Total number of context switches.', 'counter']],
  ['processes', ['node_forks_total', 'Total number of forks.', 'counter']],
  ['intr', ['node_intr_total', 'Total number of interrupts serviced.', 'counter']],
  ['procs_running', ['node_procs_running', 'Number of processes in runnable state.', 'gauge']],
  [
    'procs_blocked',
    ['node_procs_blocked', 'Number of processes blocked waiting for I/O to complete.', 'gauge'],
  ],
]);
const CPU = 'node_cpu_seconds_total';
const CPU_HELP = 'Seconds the CPUs spent in each mode.';
const TIME_HELP = 'System time in seconds since epoch (1970).';
const UNAME_HELP = 'Labeled system information as provided by the uname system call.';
const UNAME_FILES = ['ostype', 'osrelease', 'version', 'hostname', 'domainname', 'arch'];

export class ProcNodeExporter {
  private readonly root: string;
  private readonly reader: ProcReader;
  private readonly userHz: number;
  private readonly clock: Clock;
  /** CPU seconds last emitted per cpu label, in CPU_MODES order (see holdCpuCounters). */
  private lastCpu = new Map<string, number[]>();

  constructor(opts: ProcNodeExporterOptions = {}) {
    this.root = opts.procRoot ?? '/proc';
    this.reader = opts.reader ?? { readFile: (p) => readFile(p, 'utf8') };
    this.userHz = opts.userHz ?? 100;
    this.clock = opts.clock ?? systemClock;
  }

  async render(): Promise<string> {
    const [stat, meminfo, loadavg, ...uname] = await Promise.all(
      ['stat', 'meminfo', 'loadavg', ...UNAME_FILES.map((f) => `sys/kernel/${f}`)].map((f) => this.read(f)),
    );
    const families = new Map<string, Family>();
    const add = (name: string, help: string, type: Type, value: number, labels: Labels = {}): void => {
      const samples = families.get(name)?.samples ?? [];
      families.set(name, { help, type, samples: [...samples, { labels, value }] });
    };
    // Unlabelled families are replaced, not appended to: a repeated /proc line counts once (the last, as in Go).
    const set = (name: string, help: string, type: Type, value: number): void =>
      void families.set(name, { help, type, samples: [{ labels: {}, value }] });

    set('node_time_seconds', TIME_HELP, 'gauge', this.clock.nowMs() / 1000);
    const [sysname, release, version, nodename, domainname, arch] = uname.map((s) => s?.replace(/\n$/, ''));
    if (sysname !== undefined && release !== undefined && version !== undefined && nodename !== undefined) {
      // sys/kernel/arch is new in Linux 6.x; uname(2)'s machine is the same string as os.machine().
      const labels = { sysname, release, version, machine: arch ?? machine(), nodename };
      add('node_uname_info', UNAME_HELP, 'gauge', 1, { ...labels, domainname: domainname ?? '(none)' });
    }

    const cpus = new Map<string, number[]>();
    for (const [key = '', ...values] of fields(stat)) {
      const desc = STAT_LINES.get(key);
      if (desc && INTEGER.test(values[0] ?? '')) set(...desc, Number(values[0]));
      const cpu = /^cpu(\d+)$/.exec(key)?.[1]; // the all-CPU "cpu" line is not exported
      const ticks = values.slice(0, CPU_MODES.length);
      if (cpu !== undefined && ticks.length === CPU_MODES.length && ticks.every((t) => DECIMAL.test(t))) {
        const seconds = ticks.map((t) => Number(t) / this.userHz);
        cpus.set(`${Number(cpu)}`, seconds);
      }
    }
    for (const [cpu, seconds] of this.holdCpuCounters(cpus)) {
      CPU_MODES.forEach((mode, i) => add(CPU, CPU_HELP, 'counter', seconds[i] ?? 0, { cpu, mode }));
    }

    for (const [rawKey = '', raw = '', unit, ...rest] of fields(meminfo)) {
      // The kernel only prints "kB"; scaling any other unit by 1024 would be wrong, so such a line is skipped.
      if (!rawKey.endsWith(':') || !DECIMAL.test(raw) || rest.length > 0 || (unit && unit !== 'kB')) continue;
      // node_exporter's mangling: "Active(anon):" -> "Active_anon", plus "_bytes" only when a unit is printed
      // (so HugePages_Total stays a bare count), and HELP names the mangled key.
      const key = rawKey.slice(0, -1).replace(/\((.*)\)/g, '_$1') + (unit ? '_bytes' : '');
      if (!METRIC_NAME.test(`node_memory_${key}`)) continue;
      const type = key.endsWith('_total') ? 'counter' : 'gauge'; // Go's check is case-sensitive: not "_Total"
      set(`node_memory_${key}`, `Memory information field ${key}.`, type, Number(raw) * (unit ? 1024 : 1));
    }

    const loads = fields(loadavg)[0] ?? [];
    ['1', '5', '15'].forEach((m, i) => {
      const v = loads[i] ?? '';
      if (DECIMAL.test(v)) set(`node_load${m}`, `${m}m load average.`, 'gauge', Number(v));
    });

    // client_golang sorts families by name and samples by label values, bytewise (so cpu "10" sorts before "2").
    // HELP needs no escaping: every text is a constant or a validated metric name.
    return [...families]
      .sort(([a], [b]) => compare(a, b))
      .map(([name, f]) => {
        const samples = f.samples.sort((a, b) => compare(labelValues(a.labels), labelValues(b.labels)));
        const lines = samples.map((s) => `${name}${formatLabels(s.labels)} ${formatValue(s.value)}\n`);
        return `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n${lines.join('')}`;
      })
      .join('');
  }

  /**
   * As node_exporter does: idle and iowait in /proc/stat can step backwards on tickless kernels, and rate()
   * would take the drop for a counter reset, so each mode keeps its highest value seen, unless idle fell by
   * JUMP_BACK_SECONDS (a hotplugged CPU) or the number of CPUs changed, which start afresh.
   */
  private holdCpuCounters(current: Map<string, number[]>): Map<string, number[]> {
    const previous = current.size === this.lastCpu.size ? this.lastCpu : new Map<string, number[]>();
    this.lastCpu = new Map();
    for (const [cpu, seconds] of current) {
      let prev = previous.get(cpu);
      if (prev && (prev[IDLE] ?? 0) - (seconds[IDLE] ?? 0) >= JUMP_BACK_SECONDS) prev = undefined;
      this.lastCpu.set(
        cpu,
        seconds.map((v, i) => Math.max(v, prev?.[i] ?? 0)),
      );
    }
    return this.lastCpu;
  }

  /** A file we cannot read (absent in this container, no permission) drops its families, never the scrape. */
  private async read(rel: string): Promise<string | undefined> {
    try {
      return await this.reader.readFile(path.join(this.root, rel));
    } catch {
      return undefined;
    }
  }
}

function fields(text: string | undefined): string[][] {
  return (text ?? '')
    .split('\n')
    .map((line) => line.split(/\s+/).filter(Boolean))
    .filter((p) => p.length > 0);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Label pairs in name order, as client_golang writes them and compares samples by. */
function sorted(labels: Labels): Array<[string, string]> {
  return Object.entries(labels).sort(([a], [b]) => compare(a, b));
}

function labelValues(labels: Labels): string {
  return sorted(labels)
    .map(([, v]) => v)
    .join('\0');
}

function formatLabels(labels: Labels): string {
  const pairs = sorted(labels).map(
    ([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`,
  );
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
}

/**
 * Go's strconv.FormatFloat(v, 'g', -1, 64), as client_golang writes samples: shortest round-trip digits, in
 * exponent form when the exponent is < -4 or >= 6, with at least two exponent digits ("1.75065e+06").
 */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0'; // -0 too, as client_golang special-cases zero
  const [mantissa = '', exp = '0'] = v.toExponential().split('e');
  const e = Number(exp);
  if (e >= -4 && e < 6) return String(v); // JS prints this range in plain notation, with the same digits
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}
