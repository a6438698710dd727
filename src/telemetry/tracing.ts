import { trace, type Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { ErrorCodes, OverseerError } from '../errors/index.js';

export interface TracingOptions {
  enabled: boolean;
  endpoint: string;
  serviceName: string;
  sampleRatio: number;
  logger: Logger;
}

export interface Tracing {
  tracer: Tracer;
  /** Flushes pending spans and stops exporting. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * OpenTelemetry tracing with an OTLP/HTTP exporter, off by default. When off, the tracer is the API's
 * no-op one and the SDK is never loaded, so a default start pays nothing for it.
 */
export async function startTracing(opts: TracingOptions): Promise<Tracing> {
  if (!opts.enabled) return { tracer: trace.getTracer('overseer'), stop: () => Promise.resolve() };
  try {
    const [{ NodeSDK, tracing }, { OTLPTraceExporter }] = await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
    const { TraceIdRatioBasedSampler, ParentBasedSampler } = tracing;
    const sdk = new NodeSDK({
      serviceName: opts.serviceName,
      traceExporter: new OTLPTraceExporter({ url: opts.endpoint }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(opts.sampleRatio) }),
      instrumentations: [],
    });
    sdk.start();
    opts.logger.info({ endpoint: opts.endpoint, sampleRatio: opts.sampleRatio }, 'tracing on');
    let stopped: Promise<void> | undefined;
    return {
      tracer: trace.getTracer('overseer'),
      stop: () => (stopped ??= sdk.shutdown()),
    };
  } catch (cause) {
    throw new OverseerError(ErrorCodes.TRACING_START_FAILED, 'cannot start OpenTelemetry tracing', {
      hint: 'check telemetry.tracing.endpoint, or set telemetry.tracing.enabled: false',
      details: [String((cause as Error).message || cause)],
      cause,
    });
  }
}

/** Runs a background job inside a span, recording a failure on it. */
export async function inSpan<T>(tracer: Tracer, name: string, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await fn();
    } catch (e) {
      span.recordException(e as Error);
      span.setStatus({ code: 2 });
      throw e;
    } finally {
      span.end();
    }
  });
}
