import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Module, Req, Res, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { context, metrics, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

type Middleware = (req: IncomingMessage & { route?: { path?: unknown }; baseUrl?: string }, res: ServerResponse, next: () => void) => void;

/**
 * OpenTelemetry for the app: every instrument (the `tim_broadcast_*` series of the tim-broadcast packages among
 * them) served as Prometheus text on `GET /metrics`, and, when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, traces exported by OTLP/HTTP. The packages report through the global
 * OpenTelemetry API, so the providers are registered globally.
 */
export class Telemetry {
  /** Where traces go (the OTLP traces URL), or undefined when they are not exported. */
  readonly tracesUrl: string | undefined;
  readonly #prometheus = new PrometheusExporter({ preventServerStart: true });
  readonly #meterProvider: MeterProvider;
  readonly #tracerProvider: BasicTracerProvider | undefined;

  constructor(env: Record<string, string | undefined>, serviceName: string) {
    const resource = resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName });
    this.#meterProvider = new MeterProvider({ resource, readers: [this.#prometheus] });
    const registered = [metrics.setGlobalMeterProvider(this.#meterProvider)];
    this.tracesUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined);
    if (this.tracesUrl) {
      const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
      const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: this.tracesUrl }), Number.isFinite(delay) && delay > 0 ? { scheduledDelayMillis: delay } : {});
      this.#tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
      registered.push(
        trace.setGlobalTracerProvider(this.#tracerProvider),
        context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()),
        propagation.setGlobalPropagator(new W3CTraceContextPropagator()),
      );
    }
    if (registered.includes(false)) {
      console.warn(`${serviceName}: an OpenTelemetry SDK was registered already in this process; /metrics and traces may miss the broadcast series`);
    }
  }

  /** `GET /metrics`: Prometheus text. */
  serveMetrics(req: IncomingMessage, res: ServerResponse): void {
    this.#prometheus.getMetricsRequestHandler(req, res);
  }

  /**
   * Opens a server span for each request (continuing an incoming `traceparent`), so a broadcast sent while handling
   * it is part of its trace. A service of your own would rather preload `@opentelemetry/auto-instrumentations-node`;
   * this keeps the example free of loader flags. Scrapes and probes are not traced.
   */
  readonly tracing: Middleware = (req, res, next) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!this.#tracerProvider || path === '/metrics' || path === '/health') return next();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const method = req.method ?? 'GET';
    const span = trace
      .getTracer('nest-example')
      .startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path } }, parent);
    res.once('close', () => {
      const route = typeof req.route?.path === 'string' ? `${req.baseUrl ?? ''}${req.route.path}` : undefined;
      if (route) {
        span.setAttribute('http.route', route);
        span.updateName(`${method} ${route}`);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };

  /** Flushes what is buffered and unregisters the providers. */
  async shutdown(): Promise<void> {
    await Promise.allSettled([this.#meterProvider.shutdown(), this.#tracerProvider?.shutdown()]);
    metrics.disable();
    if (this.#tracerProvider) {
      trace.disable();
      context.disable();
      propagation.disable();
    }
  }
}

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(Telemetry) private readonly telemetry: Telemetry) {}

  @Get()
  metrics(@Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    this.telemetry.serveMetrics(req, res);
  }
}

/** Flushes telemetry after the broadcast module drained (it drains in `beforeApplicationShutdown`). */
class TelemetryShutdown implements OnApplicationShutdown {
  constructor(@Inject(Telemetry) private readonly telemetry: Telemetry) {}

  onApplicationShutdown(): Promise<void> {
    return this.telemetry.shutdown();
  }
}

@Module({})
export class TelemetryModule {
  /** `app.use(app.get(Telemetry).tracing)` once the app exists, so every request gets its span. */
  static forRoot(env: Record<string, string | undefined>): DynamicModule {
    return {
      module: TelemetryModule,
      controllers: [MetricsController],
      providers: [{ provide: Telemetry, useFactory: () => new Telemetry(env, 'nest-example') }, TelemetryShutdown],
      exports: [Telemetry],
    };
  }
}
