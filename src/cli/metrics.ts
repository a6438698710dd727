import type { Command } from 'commander';
import { decodeExposition, ExpositionSyntaxError, parseExposition } from '../collector/exposition/parse.js';
import type { Exposition, ExpositionFormat, LabelPairs } from '../collector/exposition/types.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { CliContext, GlobalOptions } from './context.js';
import { readInput } from './read-input.js';

/** Prometheus's API spelling of a sample value (JSON has no NaN or Infinity). */
export function formatValue(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);
}

function labelsObject(pairs: LabelPairs): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i]!] = pairs[i + 1]!;
  return out;
}

/** OpenMetrics when the text ends with its `# EOF` line; the text format otherwise. */
function detectFormat(text: string): ExpositionFormat {
  return /(^|\n)# EOF\n?$/.test(text) ? 'openmetrics' : 'prometheus';
}

/** Far above any exporter's body; a bound all the same (a wrong file or pipe must not fill the memory). */
const MAX_EXPOSITION_BYTES = 256 * 1024 * 1024;

async function readExposition(file: string, stdin: CliContext['stdin']): Promise<Buffer> {
  try {
    return await readInput(file, MAX_EXPOSITION_BYTES, stdin);
  } catch (cause) {
    throw new OverseerError(ErrorCodes.EXPOSITION_FILE_UNREADABLE, `cannot read ${file}`, {
      details: [(cause as Error).message],
      hint: 'give a file with a metrics exposition, or - to read standard input',
      exitCode: 2,
      cause,
    });
  }
}

export function toJson(e: Exposition) {
  return {
    format: e.format,
    families: e.families.map((f) => ({
      name: f.name,
      type: f.type,
      help: f.help ?? null,
      unit: f.unit ?? null,
    })),
    samples: e.samples.map((s) => ({
      name: s.name,
      labels: labelsObject(s.labels),
      value: formatValue(s.value),
      timestampMs: s.timestampMs ?? null,
      family: e.families[s.family]!.name,
      ...(s.exemplar
        ? {
            exemplar: {
              labels: labelsObject(s.exemplar.labels),
              value: formatValue(s.exemplar.value),
              timestampMs: s.exemplar.timestampMs ?? null,
            },
          }
        : {}),
    })),
  };
}

export function metricsCommands(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  const metrics = program.command('metrics').description('work with Prometheus / OpenMetrics expositions');
  metrics
    .command('parse')
    .description(
      'validate an exposition like `promtool check metrics`: exit 0 and print the samples, or exit 1 with file:line:col: reason',
    )
    .argument('<file>', 'the exposition, or - for standard input')
    .option('--format <format>', 'auto (OpenMetrics if it ends in # EOF), prometheus or openmetrics', 'auto')
    .action(async (file: string, o: { format: string }, cmd: Command) => {
      const { json } = cmd.optsWithGlobals<GlobalOptions>();
      if (!['auto', 'prometheus', 'openmetrics'].includes(o.format)) {
        cmd.error(`error: --format must be auto, prometheus or openmetrics, not ${JSON.stringify(o.format)}`);
      }
      const name = file === '-' ? '<stdin>' : file;
      const body = await readExposition(file, ctx.stdin);
      let exposition: Exposition;
      let format: ExpositionFormat = 'prometheus';
      try {
        const text = decodeExposition(body);
        format = o.format === 'auto' ? detectFormat(text) : (o.format as ExpositionFormat);
        exposition = parseExposition(text, format);
      } catch (e) {
        if (!(e instanceof ExpositionSyntaxError)) throw e;
        throw new OverseerError(
          ErrorCodes.EXPOSITION_FILE_INVALID,
          `${name}:${e.line}:${e.column}: ${e.reason}`,
          {
            hint: `the file was read as ${format === 'openmetrics' ? 'OpenMetrics 1.0' : 'Prometheus text format 0.0.4'}${o.format === 'auto' ? ' (chosen by --format auto)' : ''}`,
            exitCode: 1,
          },
        );
      }
      if (json) {
        ctx.output.out(JSON.stringify(toJson(exposition), null, 2));
      } else {
        const lines = exposition.samples.map(
          (s) =>
            `${s.series} ${formatValue(s.value)}${s.timestampMs === undefined ? '' : ` ${s.timestampMs}`}`,
        );
        if (lines.length > 0) ctx.output.out(lines.join('\n'));
        ctx.output.err(
          `${name}: ${format}, ${exposition.families.length} families, ${exposition.samples.length} samples: valid`,
        );
      }
      setExit(0);
    });
}
