import type { Logger } from 'pino';
import { ErrorCodes, OverseerError } from './errors/index.js';

/** Anything long-running. `stop` must be safe to call twice. */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface StopReport {
  stopped: string[];
  failed: Array<{ name: string; error: OverseerError }>;
}

export interface LifecycleDeps {
  logger: Logger;
  /** How long one component may take to stop before the next one is stopped anyway. */
  stepTimeoutMs: number;
}

/**
 * Starts components in order and stops them last-in-first-out. A component that failed to start is not
 * stopped (it cleans up after itself); every one started before it is. Stop runs every step even when one
 * fails or overruns its deadline, and a second call returns the first call's result.
 */
export class Lifecycle {
  private readonly started: Component[] = [];
  private stopping: Promise<StopReport> | undefined;

  constructor(private readonly deps: LifecycleDeps) {}

  async start(component: Component): Promise<void> {
    if (this.stopping) throw new Error(`cannot start ${component.name}: shutting down`);
    const t0 = performance.now();
    await component.start();
    this.started.push(component);
    this.deps.logger.debug({ component: component.name, ms: Math.round(performance.now() - t0) }, 'started');
  }

  /** Registers a cleanup step that has nothing to start (e.g. closing a pool opened elsewhere). */
  defer(name: string, stop: () => Promise<void>): void {
    this.started.push({ name, start: () => Promise.resolve(), stop });
  }

  get names(): string[] {
    return this.started.map((c) => c.name);
  }

  stop(): Promise<StopReport> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<StopReport> {
    const report: StopReport = { stopped: [], failed: [] };
    while (this.started.length > 0) {
      const c = this.started.pop()!;
      try {
        await withDeadline(c.stop(), this.deps.stepTimeoutMs, c.name);
        report.stopped.push(c.name);
      } catch (cause) {
        const error =
          cause instanceof OverseerError
            ? cause
            : new OverseerError(ErrorCodes.SHUTDOWN_STEP_FAILED, `stopping ${c.name} failed`, { cause });
        report.failed.push({ name: c.name, error });
        this.deps.logger.error({ component: c.name, code: error.code, err: cause }, error.message);
      }
    }
    return report;
  }
}

async function withDeadline(p: Promise<void>, ms: number, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new OverseerError(ErrorCodes.SHUTDOWN_STEP_TIMEOUT, `stopping ${name} took longer than ${ms} ms`, {
            hint: 'raise server.shutdownTimeout, or look at what the component was waiting for',
          }),
        ),
      ms,
    );
  });
  try {
    await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
