import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { ErrorCodes } from '../errors/index.js';
import type { CliContext } from './context.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], stdin?: string | Buffer): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  let stdinReads = 0;
  const ctx: CliContext = {
    env: {},
    output: { out: (t) => out.push(t), err: (t) => err.push(t) },
    stopSignal: () => new Promise<string>(() => {}),
    stdin: () => {
      stdinReads++;
      return stdin === undefined
        ? Promise.reject(new Error('stdin must not be read'))
        : Promise.resolve(Buffer.from(stdin));
    },
  };
  const code = await runCli(['metrics', 'parse', ...argv], ctx);
  if (stdin !== undefined) expect(stdinReads).toBe(1);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const PROM = `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{code="200",method="get"} 1027 1395066363000
http_requests_total{method="post",code="400"} 3
# TYPE temp gauge
temp NaN
temp_max +Inf
`;

const OM = `# TYPE rpc_seconds histogram
# HELP rpc_seconds RPC latency.
rpc_seconds_bucket{le="0.5"} 1 # {trace_id="abc"} 0.3 1700000000.5
rpc_seconds_bucket{le="+Inf"} 2
rpc_seconds_sum 1.5
rpc_seconds_count 2
# TYPE jobs counter
jobs_total -0.0
# EOF
`;

let dir: string;
const file = (name: string): string => path.join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'overseer-cli-metrics-'));
  await writeFile(file('prom.txt'), PROM);
  await writeFile(file('om.txt'), OM);
  await writeFile(file('empty.txt'), '');
  await writeFile(file('bad.txt'), '# TYPE up gauge\nup 1\nup{a="1" 2\n');
  await writeFile(
    file('bad-utf8.txt'),
    Buffer.concat([Buffer.from('up{a="'), Buffer.from([0xff]), Buffer.from('"} 1\n')]),
  );
  await writeFile(file('unreadable.txt'), 'up 1\n');
  await chmod(file('unreadable.txt'), 0o000);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('overseer metrics parse', () => {
  it('prints one line per sample and exits 0 for a valid Prometheus file', async () => {
    const r = await run([file('prom.txt')]);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([
      'http_requests_total{code="200",method="get"} 1027 1395066363000',
      'http_requests_total{code="400",method="post"} 3',
      'temp NaN',
      'temp_max +Inf',
    ]);
    expect(r.err).toBe(`${file('prom.txt')}: prometheus, 3 families, 4 samples: valid`);
  });

  it('prints nothing on stdout for an empty exposition', async () => {
    const r = await run([file('empty.txt')]);
    expect(r).toEqual({
      code: 0,
      out: '',
      err: `${file('empty.txt')}: prometheus, 0 families, 0 samples: valid`,
    });
  });

  it.each<[string, (f: string) => string[]]>([
    ['before the command', (f) => ['--json', 'metrics', 'parse', f]],
    ['after the file', (f) => ['metrics', 'parse', f, '--json']],
  ])('--json %s gives families and samples with values as strings', async (_, argv) => {
    const out: string[] = [];
    const ctx: CliContext = {
      env: {},
      output: { out: (t) => out.push(t), err: () => {} },
      stopSignal: () => new Promise<string>(() => {}),
    };
    const code = await runCli(argv(file('prom.txt')), ctx);
    expect(code).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual({
      format: 'prometheus',
      families: [
        { name: 'http_requests_total', type: 'counter', help: 'Requests.', unit: null },
        { name: 'temp', type: 'gauge', help: null, unit: null },
        { name: 'temp_max', type: 'untyped', help: null, unit: null },
      ],
      samples: [
        {
          name: 'http_requests_total',
          labels: { code: '200', method: 'get' },
          value: '1027',
          timestampMs: 1395066363000,
          family: 'http_requests_total',
        },
        {
          name: 'http_requests_total',
          labels: { method: 'post', code: '400' },
          value: '3',
          timestampMs: null,
          family: 'http_requests_total',
        },
        { name: 'temp', labels: {}, value: 'NaN', timestampMs: null, family: 'temp' },
        { name: 'temp_max', labels: {}, value: '+Inf', timestampMs: null, family: 'temp_max' },
      ],
    });
  });

  it('auto-detects OpenMetrics by # EOF and prints exemplars in --json', async () => {
    const text = await run([file('om.txt')]);
    expect(text.code).toBe(0);
    expect(text.err).toBe(`${file('om.txt')}: openmetrics, 2 families, 5 samples: valid`);
    expect(text.out.split('\n')).toEqual([
      'rpc_seconds_bucket{le="0.5"} 1',
      'rpc_seconds_bucket{le="+Inf"} 2',
      'rpc_seconds_sum 1.5',
      'rpc_seconds_count 2',
      'jobs_total 0',
    ]);
    const json = await run(['--json', file('om.txt')]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.out) as {
      format: string;
      families: Array<{ name: string }>;
      samples: Array<Record<string, unknown>>;
    };
    expect(parsed.format).toBe('openmetrics');
    expect(parsed.families.map((f) => f.name)).toEqual(['rpc_seconds', 'jobs']);
    expect(parsed.samples[0]).toEqual({
      name: 'rpc_seconds_bucket',
      labels: { le: '0.5' },
      value: '1',
      timestampMs: null,
      family: 'rpc_seconds',
      exemplar: { labels: { trace_id: 'abc' }, value: '0.3', timestampMs: 1700000000500 },
    });
    expect(parsed.samples[1]).not.toHaveProperty('exemplar');
    expect(parsed.samples[4]).toMatchObject({ name: 'jobs_total', family: 'jobs' });
  });

  it.each<{ title: string; args: (f: typeof file) => string[]; stdin?: string; where: RegExp }>([
    { title: 'a bad label list', args: (f) => [f('bad.txt')], where: /^error 100901: .*bad\.txt:3:10: .+/m },
    {
      title: 'invalid UTF-8',
      args: (f) => [f('bad-utf8.txt')],
      where: /^error 100901: .*bad-utf8\.txt:1:7: invalid UTF-8$/m,
    },
    {
      title: 'an OpenMetrics body without # EOF given --format openmetrics',
      args: (f) => ['--format', 'openmetrics', f('prom.txt')],
      where: /^error 100901: .*prom\.txt:3:1: .+/m,
    },
    {
      title: 'a Prometheus body given --format openmetrics (no # EOF)',
      args: () => ['--format', 'openmetrics', '-'],
      stdin: 'up 1\n',
      where: /^error 100901: <stdin>:\d+:\d+: .*# EOF/m,
    },
    {
      title: 'stdin',
      args: () => ['-'],
      stdin: 'up 1\nup{ 2\n',
      where: /^error 100901: <stdin>:2:\d+: .+/m,
    },
  ])('exits 1 with file:line:col: reason for $title', async ({ args, stdin, where }) => {
    const r = await run(args(file), stdin);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(where);
    expect(r.err).toMatch(/^hint: the file was read as /m);
  });

  it('names the format it chose in the hint', async () => {
    const auto = await run([file('bad.txt')]);
    expect(auto.err).toContain('Prometheus text format 0.0.4 (chosen by --format auto)');
    const om = await run(['--format', 'openmetrics', file('prom.txt')]);
    expect(om.err).toContain('read as OpenMetrics 1.0');
    expect(om.err).not.toContain('chosen by');
  });

  it.each([
    ['Prometheus text', 'a{x="1"} 1\nb 2.5\n', ['a{x="1"} 1', 'b 2.5'], 'prometheus'],
    ['OpenMetrics', '# TYPE a gauge\na 1\n# EOF\n', ['a 1'], 'openmetrics'],
    ['OpenMetrics without the final newline', '# TYPE a gauge\na 1\n# EOF', ['a 1'], 'openmetrics'],
  ])('reads - from stdin (%s)', async (_, input, lines, format) => {
    const r = await run(['-'], input);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual(lines);
    expect(r.err).toMatch(new RegExp(`^<stdin>: ${format}, `));
  });

  it.each<[string, string[], string, string[]]>([
    ['--format prometheus on Prometheus text', ['--format', 'prometheus'], PROM, []],
    ['--format auto on OpenMetrics', ['--format', 'auto'], '# TYPE a gauge\na 1\n# EOF\n', ['a 1']],
    // The text format reads `# EOF` as a comment.
    [
      '--format prometheus on OpenMetrics',
      ['--format', 'prometheus'],
      '# TYPE a gauge\na 1\n# EOF\n',
      ['a 1'],
    ],
    [
      '--format openmetrics on OpenMetrics',
      ['--format', 'openmetrics'],
      '# TYPE a gauge\na 1\n# EOF\n',
      ['a 1'],
    ],
  ])('%s exits 0', async (_, flags, input, lines) => {
    const r = await run([...flags, '-'], input);
    expect(r.code).toBe(0);
    if (lines.length > 0) expect(r.out.split('\n')).toEqual(lines);
    const format = flags[1] === 'auto' ? 'openmetrics' : flags[1]!;
    expect(r.err).toMatch(new RegExp(`^<stdin>: ${format}, `));
  });

  it.each([
    ['a missing file', 'missing.txt'],
    ['a folder', '.'],
  ])('exits 2 with code 100902 for %s', async (_, name) => {
    const r = await run([name === '.' ? dir : file(name)]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error 100902: cannot read /m);
    expect(ErrorCodes.EXPOSITION_FILE_UNREADABLE).toBe(100902);
  });

  // Root reads a mode-000 file anyway.
  it.skipIf(process.getuid?.() === 0)(
    'exits 2 with code 100902 for a file without read permission',
    async () => {
      const r = await run([file('unreadable.txt')]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^error 100902: cannot read .*unreadable\.txt/m);
    },
  );

  it('exits 2 when reading stdin fails', async () => {
    const err: string[] = [];
    const code = await runCli(['metrics', 'parse', '-'], {
      env: {},
      output: { out: () => {}, err: (t) => err.push(t) },
      stopSignal: () => new Promise<string>(() => {}),
      stdin: () => Promise.reject(new Error('EPIPE')),
    });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/^error 100902: cannot read -\n {2}- EPIPE/m);
  });

  it.each([['json'], ['OpenMetrics'], ['']])('exits 2 for --format %j', async (format) => {
    const r = await run(['--format', format, file('prom.txt')]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('--format must be auto, prometheus or openmetrics');
    expect(r.err).toContain(`error ${ErrorCodes.CLI_USAGE}: usage error`);
  });

  it.each([
    ['no file', []],
    ['an unknown option', ['--bogus', 'x']],
  ])('exits 2 for %s', async (_, argv) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`error ${ErrorCodes.CLI_USAGE}: usage error`);
  });
});
