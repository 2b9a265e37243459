/**
 * OpenTelemetry tracing, loaded only when asked for: the SDK alone adds ~35 MB of
 * RSS, too much to pay on a small host that exports no traces. The standard
 * variables turn it on (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); OTEL_SDK_DISABLED=true keeps it off.
 * Spans are made through @opentelemetry/api, a no-op until the SDK registers.
 */
import type { Logger } from 'pino';

export interface Tracing {
  /** Flushes pending spans and stops the SDK. */
  shutdown(): Promise<void>;
}

export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export async function startTracing(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (!tracingWanted(env)) return undefined;
  // The tracing part of the SDK only. @opentelemetry/sdk-node's entry point loads the
  // metrics and logs SDKs and every exporter (about 200 more modules) and, with an OTLP
  // endpoint set, starts a logs pipeline nothing here writes to: 10 MB more RSS.
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  // NodeSDK's default detectors, the env detector last so that OTEL_SERVICE_NAME and
  // OTEL_RESOURCE_ATTRIBUTES win over the default name.
  const { resourceFromAttributes, detectResources, hostDetector, osDetector, processDetector, serviceInstanceIdDetector, envDetector } = resources;
  const resource = resourceFromAttributes({ 'service.name': 'homestation' }).merge(
    detectResources({ detectors: [hostDetector, osDetector, processDetector, serviceInstanceIdDetector, envDetector] }),
  );
  // Sampler (OTEL_TRACES_SAMPLER), span limits and batching (OTEL_BSP_*) come from the
  // environment as the SDK reads them.
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  provider.register();
  log.info(
    { endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT },
    'tracing on: exporting spans over OTLP/HTTP',
  );
  return {
    async shutdown() {
      await provider.shutdown();
    },
  };
}
