import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { isOverseerError, type OverseerError } from '../errors/index.js';
import type { Component } from '../lifecycle.js';
import type { AlarmCode } from './code-catalog.js';
import type { CatalogFile } from './catalog-file.js';
import { alertAnnotations } from '../dashboards/error-code-rules.js';
import { compileCodeRules, type CompiledCodeRule } from './evaluator/compile.js';
import { loadCodeCatalog } from './load-catalog.js';

export interface AlarmsDeps {
  config: Config['alarms'];
  scrapeIntervalMs: number;
  logger: Logger;
  countError?: (code: number) => void;
}

/**
 * The alarms area. Holds the code catalog: loaded at start and on reload; a catalog that fails to load
 * (bad codes.yml, unreadable source) is reported and the last good one stays in use.
 */
export class Alarms implements Component {
  readonly name = 'alarms';
  private catalog: AlarmCode[] = [];
  private file: CatalogFile | undefined;
  private loadedAt: Date | undefined;
  private lastError: OverseerError | undefined;

  private compiled: Array<CompiledCodeRule & { annotations: Record<string, string> }> = [];

  constructor(private readonly deps: AlarmsDeps) {}

  /** The evaluator's rules: the same as `overseer generate` writes, rebuilt when the catalog reloads. */
  rules(): ReadonlyArray<CompiledCodeRule & { annotations: Record<string, string> }> {
    return this.compiled;
  }

  async start(): Promise<void> {
    await this.reload();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Loads the catalog again; on failure keeps the previous one and returns the error. */
  async reload(): Promise<OverseerError | undefined> {
    try {
      const { codes, file } = await loadCodeCatalog(this.deps.config);
      this.catalog = codes;
      this.file = file;
      const byCode = new Map(codes.map((c) => [String(c.code), c]));
      this.compiled = compileCodeRules(codes, {
        scrapeIntervalMs: this.deps.scrapeIntervalMs,
        classes: file?.classes,
      }).map((r) => ({ ...r, annotations: alertAnnotations(byCode.get(r.code)!) }));
      this.loadedAt = new Date();
      this.lastError = undefined;
      this.deps.logger.info(
        { codes: codes.length, alerting: codes.filter((c) => c.alert).length },
        'error-code catalog loaded',
      );
    } catch (e) {
      if (!isOverseerError(e)) throw e;
      this.lastError = e;
      this.deps.countError?.(e.code);
      this.deps.logger.error(
        { code: e.code, details: e.details, keeping: this.catalog.length },
        `${e.message}; keeping the last good catalog`,
      );
    }
    return this.lastError;
  }

  codes(): AlarmCode[] {
    return this.catalog;
  }

  catalogFile(): CatalogFile | undefined {
    return this.file;
  }

  status(): { loadedAt: string | null; error: { code: number; message: string; details: string[] } | null } {
    const e = this.lastError;
    return {
      loadedAt: this.loadedAt?.toISOString() ?? null,
      error: e ? { code: e.code, message: e.message, details: e.details } : null,
    };
  }
}
