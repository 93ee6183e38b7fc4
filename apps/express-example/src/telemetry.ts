import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, metrics, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Request, RequestHandler } from 'express';

/**
 * OpenTelemetry for the service: every instrument (the `tim_broadcast_*` series of the tim-broadcast packages among
 * them) served as Prometheus text on the app's own port, and, when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, traces exported by OTLP/HTTP. The packages report through the global
 * OpenTelemetry API, so the providers are registered globally.
 */
export interface Telemetry {
  /** `GET /metrics`: Prometheus text. */
  readonly metrics: RequestHandler;
  /**
   * Opens a server span for each request (continuing an incoming `traceparent`), so a broadcast sent while handling
   * it is part of its trace. A service of your own would rather preload `@opentelemetry/auto-instrumentations-node`;
   * this keeps the example free of loader flags.
   */
  readonly tracing: RequestHandler;
  /** Where traces go (the OTLP traces URL), or undefined when they are not exported. */
  readonly tracesUrl: string | undefined;
  /** Flushes what is buffered and unregisters the providers. */
  shutdown(): Promise<void>;
}

/** Paths whose requests are not traced: scrapes and probes would drown the interesting traces. */
const UNTRACED = new Set(['/metrics', '/health']);

export function startTelemetry(env: Record<string, string | undefined>, serviceName: string): Telemetry {
  const resource = resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName });
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ resource, readers: [prometheus] });
  const registered = [metrics.setGlobalMeterProvider(meterProvider)];

  const tracesUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined);
  let tracerProvider: BasicTracerProvider | undefined;
  if (tracesUrl) {
    const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
    const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }), Number.isFinite(delay) && delay > 0 ? { scheduledDelayMillis: delay } : {});
    tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
    registered.push(
      trace.setGlobalTracerProvider(tracerProvider),
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()),
      propagation.setGlobalPropagator(new W3CTraceContextPropagator()),
    );
  }
  if (registered.includes(false)) {
    console.warn(`${serviceName}: an OpenTelemetry SDK was registered already in this process; /metrics and traces may miss the broadcast series`);
  }

  const tracer = trace.getTracer(serviceName);
  const tracing: RequestHandler = (req, res, next) => {
    if (!tracerProvider || UNTRACED.has(req.path)) return next();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(`${req.method}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } }, parent);
    res.once('close', () => {
      const route = routeOf(req);
      if (route) span.setAttribute('http.route', route);
      span.updateName(route ? `${req.method} ${route}` : req.method);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };

  return {
    metrics: (req, res) => prometheus.getMetricsRequestHandler(req as IncomingMessage, res as ServerResponse),
    tracing,
    tracesUrl,
    async shutdown() {
      await Promise.allSettled([meterProvider.shutdown(), tracerProvider?.shutdown()]);
      metrics.disable();
      if (tracerProvider) {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}

/** The matched route, when an Express route matched (a handler mounted with `app.use` has none: the span is then named by the method alone, as the HTTP conventions say). */
function routeOf(req: Request): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : undefined;
}
