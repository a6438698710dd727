import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ErrorCodes, OverseerError } from '../../errors/index.js';
import type { Component } from '../../lifecycle.js';
import { targetsOfGroup, type Target } from './target.js';

const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const groupsSchema = z.array(
  z.strictObject({
    targets: z.array(z.string().regex(/^[^/\s]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'must be host:port')),
    labels: z
      .record(z.string().regex(labelName, 'label names are [a-zA-Z_][a-zA-Z0-9_]*'), z.string())
      .default({}),
  }),
);

export interface FileSdDeps {
  /** Files or `dir/*.json`-style patterns; as in Prometheus, only the last path element may be a glob. */
  patterns: readonly string[];
  refreshIntervalMs: number;
  logger: Logger;
  registry: Registry;
  onChange: (targets: Target[]) => void;
  countError?: (code: number) => void;
}

/** `*`, `?` and `[…]` of the last path element as a RegExp over file names. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[' || ch === ']') re += ch;
    else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Prometheus file_sd: JSON or YAML lists of `{targets, labels}` read again when a watched folder changes
 * and every refresh interval. A file that cannot be read or is invalid keeps the targets it gave last
 * time (nothing already accepted is lost) and is reported until it is fixed.
 */
export class FileSd implements Component {
  readonly name = 'file-sd';
  private readonly byFile = new Map<string, Target[]>();
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();
  private readonly errors: Counter;
  private stopped = false;

  constructor(private readonly deps: FileSdDeps) {
    this.errors = new Counter({
      name: 'overseer_file_sd_read_errors_total',
      help: 'file_sd files that could not be read or were invalid (their previous targets are kept).',
      registers: [deps.registry],
    });
  }

  async start(): Promise<void> {
    await this.refresh();
    for (const dir of new Set(this.deps.patterns.map((p) => path.dirname(p)))) {
      try {
        const w = watch(dir, () => this.scheduleRefresh());
        w.on('error', (err) =>
          this.deps.logger.warn({ err, dir }, 'file_sd watch failed; relying on refresh'),
        );
        this.watchers.push(w);
      } catch (err) {
        this.deps.logger.warn({ err, dir }, 'cannot watch file_sd folder; it is read every refresh interval');
      }
    }
    // The periodic read bypasses the debounce: a short interval must not keep postponing it.
    this.timer = setInterval(() => {
      if (!this.stopped) this.reading = this.reading.then(() => this.refresh());
    }, this.deps.refreshIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    for (const w of this.watchers.splice(0)) w.close();
    await this.reading;
  }

  targets(): Target[] {
    return [...this.byFile.values()].flat();
  }

  private scheduleRefresh(): void {
    if (this.stopped) return;
    // Editors write a file in several steps; read once they are done.
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.reading = this.reading.then(() => this.refresh());
    }, 100);
  }

  /** Reads every matching file; calls onChange when the target list changed. */
  async refresh(): Promise<void> {
    const before = JSON.stringify(this.targets().map((t) => t.id));
    const present = new Set<string>();
    for (const pattern of this.deps.patterns) {
      for (const file of await this.matching(pattern)) {
        present.add(file);
        await this.readFile(file);
      }
    }
    for (const file of [...this.byFile.keys()]) if (!present.has(file)) this.byFile.delete(file);
    const after = this.targets();
    if (JSON.stringify(after.map((t) => t.id)) !== before && !this.stopped) this.deps.onChange(after);
  }

  private async matching(pattern: string): Promise<string[]> {
    const dir = path.dirname(pattern);
    const base = path.basename(pattern);
    if (!/[*?[]/.test(base)) return [pattern];
    const re = globToRegExp(base);
    try {
      return (await readdir(dir))
        .filter((f) => re.test(f))
        .map((f) => path.join(dir, f))
        .sort();
    } catch {
      return [];
    }
  }

  private async readFile(file: string): Promise<void> {
    try {
      const text = await readFile(file, 'utf8');
      const raw: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
      const groups = groupsSchema.parse(raw ?? []);
      this.byFile.set(
        file,
        groups.flatMap((g) => targetsOfGroup(g, file)),
      );
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
        this.byFile.delete(file);
        return;
      }
      this.errors.inc();
      const err = new OverseerError(ErrorCodes.FILE_SD_INVALID, `file_sd file ${file} is invalid`, {
        details: [cause instanceof z.ZodError ? z.prettifyError(cause) : String((cause as Error).message)],
        hint: 'a file_sd file is a JSON or YAML list of {targets: ["host:port"], labels: {…}}; its previous targets are kept',
        cause,
      });
      this.deps.countError?.(err.code);
      this.deps.logger.error({ code: err.code, file, details: err.details }, err.message);
    }
  }
}
