import { machine } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { PROC_EXPORTER_CONTENT_TYPE, ProcNodeExporter, type ProcReader } from './proc-node-exporter.js';

/** A /proc made of fixture text; any other path fails the way a missing file does. */
function fakeProc(files: Record<string, string>, root = '/proc'): ProcReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readFile(p: string): Promise<string> {
      reads.push(p);
      const rel = p.startsWith(`${root}/`) ? p.slice(root.length + 1) : undefined;
      const text = rel === undefined ? undefined : files[rel];
      return text === undefined
        ? Promise.reject(Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' }))
        : Promise.resolve(text);
    },
  };
}

const clock = new ManualClock(1_700_000_000_123);
const TIME = [
  '# HELP node_time_seconds System time in seconds since epoch (1970).',
  '# TYPE node_time_seconds gauge',
  'node_time_seconds 1.700000000123e+09',
];

async function render(files: Record<string, string>, opts: { userHz?: number } = {}): Promise<string[]> {
  const out = await new ProcNodeExporter({ reader: fakeProc(files), clock, ...opts }).render();
  expect(out.endsWith('\n')).toBe(true);
  return out.slice(0, -1).split('\n');
}

const STAT = `cpu  300 5 120 9000 40 0 7 3 0 0
cpu0 150 5 60 4500 20 0 4 1 0 0
cpu1 150 0 60 4500 20 0 3 2 12 0
intr 1750650 9 0 0 41
ctxt 6311237
btime 1795575319
processes 17167
procs_running 2
procs_blocked 1
softirq 420 0 100 0 0 0 0 20 0 0 300
`;

const MEMINFO = `MemTotal:       24684084 kB
MemFree:        24293572 kB
MemAvailable:   24325740 kB
Active(anon):       1536 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
`;

const UNAME = {
  'sys/kernel/ostype': 'Linux\n',
  'sys/kernel/osrelease': '6.1.0-18-amd64\n',
  'sys/kernel/version': '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n',
  'sys/kernel/hostname': 'web-1\n',
  'sys/kernel/domainname': '(none)\n',
  'sys/kernel/arch': 'x86_64\n',
};

describe('ProcNodeExporter', () => {
  it('renders every family as node_exporter 1.5 does: names, HELP, TYPE, order, Go number format', async () => {
    const lines = await render({
      stat: STAT,
      meminfo: MEMINFO,
      loadavg: '0.01 0.74 0.99 1/85 17103\n',
      ...UNAME,
    });
    expect(lines).toEqual([
      '# HELP node_boot_time_seconds Node boot time, in unixtime.',
      '# TYPE node_boot_time_seconds gauge',
      'node_boot_time_seconds 1.795575319e+09',
      '# HELP node_context_switches_total Total number of context switches.',
      '# TYPE node_context_switches_total counter',
      'node_context_switches_total 6.311237e+06',
      '# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.',
      '# TYPE node_cpu_seconds_total counter',
      'node_cpu_seconds_total{cpu="0",mode="idle"} 45',
      'node_cpu_seconds_total{cpu="0",mode="iowait"} 0.2',
      'node_cpu_seconds_total{cpu="0",mode="irq"} 0',
      'node_cpu_seconds_total{cpu="0",mode="nice"} 0.05',
      'node_cpu_seconds_total{cpu="0",mode="softirq"} 0.04',
      'node_cpu_seconds_total{cpu="0",mode="steal"} 0.01',
      'node_cpu_seconds_total{cpu="0",mode="system"} 0.6',
      'node_cpu_seconds_total{cpu="0",mode="user"} 1.5',
      'node_cpu_seconds_total{cpu="1",mode="idle"} 45',
      'node_cpu_seconds_total{cpu="1",mode="iowait"} 0.2',
      'node_cpu_seconds_total{cpu="1",mode="irq"} 0',
      'node_cpu_seconds_total{cpu="1",mode="nice"} 0',
      'node_cpu_seconds_total{cpu="1",mode="softirq"} 0.03',
      'node_cpu_seconds_total{cpu="1",mode="steal"} 0.02',
      'node_cpu_seconds_total{cpu="1",mode="system"} 0.6',
      'node_cpu_seconds_total{cpu="1",mode="user"} 1.5',
      '# HELP node_forks_total Total number of forks.',
      '# TYPE node_forks_total counter',
      'node_forks_total 17167',
      '# HELP node_intr_total Total number of interrupts serviced.',
      '# TYPE node_intr_total counter',
      'node_intr_total 1.75065e+06',
      '# HELP node_load1 1m load average.',
      '# TYPE node_load1 gauge',
      'node_load1 0.01',
      '# HELP node_load15 15m load average.',
      '# TYPE node_load15 gauge',
      'node_load15 0.99',
      '# HELP node_load5 5m load average.',
      '# TYPE node_load5 gauge',
      'node_load5 0.74',
      '# HELP node_memory_Active_anon_bytes Memory information field Active_anon_bytes.',
      '# TYPE node_memory_Active_anon_bytes gauge',
      'node_memory_Active_anon_bytes 1.572864e+06',
      '# HELP node_memory_HugePages_Total Memory information field HugePages_Total.',
      '# TYPE node_memory_HugePages_Total gauge',
      'node_memory_HugePages_Total 0',
      '# HELP node_memory_Hugepagesize_bytes Memory information field Hugepagesize_bytes.',
      '# TYPE node_memory_Hugepagesize_bytes gauge',
      'node_memory_Hugepagesize_bytes 2.097152e+06',
      '# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.',
      '# TYPE node_memory_MemAvailable_bytes gauge',
      'node_memory_MemAvailable_bytes 2.490955776e+10',
      '# HELP node_memory_MemFree_bytes Memory information field MemFree_bytes.',
      '# TYPE node_memory_MemFree_bytes gauge',
      'node_memory_MemFree_bytes 2.4876617728e+10',
      '# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.',
      '# TYPE node_memory_MemTotal_bytes gauge',
      'node_memory_MemTotal_bytes 2.5276502016e+10',
      '# HELP node_procs_blocked Number of processes blocked waiting for I/O to complete.',
      '# TYPE node_procs_blocked gauge',
      'node_procs_blocked 1',
      '# HELP node_procs_running Number of processes in runnable state.',
      '# TYPE node_procs_running gauge',
      'node_procs_running 2',
      ...TIME,
      '# HELP node_uname_info Labeled system information as provided by the uname system call.',
      '# TYPE node_uname_info gauge',
      'node_uname_info{domainname="(none)",machine="x86_64",nodename="web-1",release="6.1.0-18-amd64",sysname="Linux",version="#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"} 1',
    ]);
  });

  it('converts kB to bytes and emits no MemAvailable when the kernel has none (before 3.14)', async () => {
    const lines = await render({ meminfo: 'MemTotal: 1 kB\nMemFree: 3 kB\nBuffers: 0 kB\n' });
    expect(lines.filter((l) => !l.startsWith('#'))).toEqual([
      'node_memory_Buffers_bytes 0',
      'node_memory_MemFree_bytes 3072',
      'node_memory_MemTotal_bytes 1024',
      'node_time_seconds 1.700000000123e+09',
    ]);
  });

  it('types a meminfo field ending in "_total" as a counter, like node_exporter (case-sensitive)', async () => {
    const lines = await render({ meminfo: 'Foo_total: 5\nHugePages_Total: 7\n' });
    expect(lines).toContain('# TYPE node_memory_Foo_total counter');
    expect(lines).toContain('# TYPE node_memory_HugePages_Total gauge');
  });

  it('orders cpu labels as strings, so cpu="10" comes before cpu="2"', async () => {
    const stat = Array.from({ length: 12 }, (_, i) => `cpu${i} 1 0 0 0 0 0 0 0`).join('\n');
    const lines = await render({ stat });
    const cpus = lines.filter((l) => l.endsWith('mode="user"} 0.01')).map((l) => /cpu="(\d+)"/.exec(l)?.[1]);
    expect(cpus).toEqual(['0', '1', '10', '11', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('divides ticks by the configured USER_HZ', async () => {
    const lines = await render({ stat: 'cpu0 250 0 0 0 0 0 0 0\n' }, { userHz: 250 });
    expect(lines).toContain('node_cpu_seconds_total{cpu="0",mode="user"} 1');
  });

  it('skips the families of missing files instead of failing the scrape', async () => {
    expect(await render({})).toEqual(TIME);
    const lines = await render({ loadavg: '1.5 0.00001 1234567 2/3 4\n' });
    expect(lines.filter((l) => !l.startsWith('#'))).toEqual([
      'node_load1 1.5',
      'node_load15 1.234567e+06',
      'node_load5 1e-05',
      'node_time_seconds 1.700000000123e+09',
    ]);
  });

  it('skips malformed lines rather than emit wrong numbers', async () => {
    const lines = await render({
      stat: 'ctxt 12x\nprocesses -3\nbtime\ncpu0 1 2 3 4 5 6 7\ncpu1 1 2 3 4 5 6 7 0x8\ncpuX 1 1 1 1 1 1 1 1\nprocs_running 4\n',
      meminfo: [
        'MemTotal: abc kB',
        'MemFree: 12 MB',
        'Cached 5 kB',
        'Buffers: 1 kB extra',
        'Weird-Name: 5 kB',
        'Slab: 1e3 kB',
        'Shmem: Infinity',
        'Dirty: 2 kB',
      ].join('\n'),
      loadavg: '0.5 abc\n',
    });
    expect(lines.filter((l) => !l.startsWith('#'))).toEqual([
      'node_load1 0.5',
      'node_memory_Dirty_bytes 2048',
      'node_procs_running 4',
      'node_time_seconds 1.700000000123e+09',
    ]);
  });

  it('reads from procRoot', async () => {
    const reader = fakeProc({ loadavg: '1 2 3 1/1 1\n' }, '/host/proc');
    const out = await new ProcNodeExporter({ procRoot: '/host/proc', reader, clock }).render();
    expect(out).toContain('node_load15 3\n');
    expect(reader.reads).toContain('/host/proc/loadavg');
  });

  it('escapes uname label values, defaults domainname, and falls back to os.machine() without sys/kernel/arch', async () => {
    const { 'sys/kernel/arch': _arch, 'sys/kernel/domainname': _domain, ...rest } = UNAME;
    const lines = await render({ ...rest, 'sys/kernel/version': '#1 "quoted" back\\slash\n' });
    expect(lines).toContain(
      `node_uname_info{domainname="(none)",machine="${machine()}",nodename="web-1",release="6.1.0-18-amd64",sysname="Linux",version="#1 \\"quoted\\" back\\\\slash"} 1`,
    );
  });

  it('keeps CPU counters from going backwards, but starts afresh after a hotplug-sized idle drop', async () => {
    const files: Record<string, string> = { stat: 'cpu0 100 0 0 10000 50 0 0 0\n' };
    const exporter = new ProcNodeExporter({ reader: fakeProc(files), clock });
    const value = async (mode: string): Promise<string | undefined> =>
      new RegExp(`mode="${mode}"} (\\S+)`).exec(await exporter.render())?.[1];

    expect(await value('iowait')).toBe('0.5');
    files.stat = 'cpu0 101 0 0 9999 49 0 0 0\n'; // tickless accounting stepped back by a tick
    expect([await value('iowait'), await value('idle'), await value('user')]).toEqual(['0.5', '100', '1.01']);
    files.stat = 'cpu0 5 0 0 200 1 0 0 0\n'; // idle fell by 98 s: the CPU was re-plugged
    expect([await value('iowait'), await value('idle'), await value('user')]).toEqual(['0.01', '2', '0.05']);
  });

  it('names the 0.0.4 text content type', () => {
    expect(PROC_EXPORTER_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
