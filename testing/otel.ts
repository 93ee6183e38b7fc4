/**
 * The real OpenTelemetry SDK for tests, registered globally (as an application registers it): a tracer provider
 * with an in-memory span exporter, a meter provider read on demand into an in-memory metric exporter, the
 * AsyncLocalStorage context manager and the W3C propagator. One per test file (vitest isolates files); `close()`
 * unregisters everything.
 */
import { context, metrics, propagation, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { recordOutput } from './secret-scan.setup';

export interface Point {
  attributes: Attributes;
  /** A counter's or gauge's value; for a histogram, its count, sum and buckets. */
  value: number | { count: number; sum?: number; buckets: { boundaries: number[]; counts: number[] } };
}

export interface OtelHarness {
  /** Spans ended so far, in the order they ended (also handed to the secret scan). */
  spans(): ReadableSpan[];
  /** Collects every instrument now; the points of the metric named `name` (handed to the secret scan). */
  metric(name: string): Promise<Point[]>;
  /** Everything collected now (handed to the secret scan). */
  collect(): Promise<ResourceMetrics>;
  /** Forgets the spans ended so far. */
  resetSpans(): void;
  close(): Promise<void>;
}

export function startOtel(): OtelHarness {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  if (!trace.setGlobalTracerProvider(tracerProvider) || !metrics.setGlobalMeterProvider(meterProvider) || !context.setGlobalContextManager(contextManager)) {
    throw new Error('an OpenTelemetry SDK is registered already in this test file');
  }
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());

  async function collect(): Promise<ResourceMetrics> {
    metricExporter.reset();
    await reader.forceFlush();
    const all = metricExporter.getMetrics();
    const latest = all[all.length - 1];
    if (!latest) return { resource: undefined, scopeMetrics: [] } as unknown as ResourceMetrics; // nothing recorded yet
    recordOutput(latest);
    return latest;
  }

  return {
    spans() {
      const spans = spanExporter.getFinishedSpans();
      recordOutput(spans);
      return spans;
    },
    async metric(name) {
      const found = (await collect()).scopeMetrics.flatMap((s) => s.metrics).filter((m) => m.descriptor.name === name);
      return found.flatMap((m) => (m.dataPoints as DataPoint<unknown>[]).map((p) => ({ attributes: p.attributes, value: p.value as Point['value'] })));
    },
    collect,
    resetSpans: () => spanExporter.reset(),
    async close() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      trace.disable();
      metrics.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The span named `name` (exactly one), from `spans`. */
export function spanNamed(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1) throw new Error(`expected one span named ${name}, found ${found.length}: ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

/** The parent span id of `span` (SDK 2: `parentSpanContext`). */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
