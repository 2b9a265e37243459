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
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? 'homestation',
    traceExporter: new OTLPTraceExporter(),
    // Spans of our own making only: no auto-instrumentation of every library.
    instrumentations: [],
  });
  sdk.start();
  log.info(
    { endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT },
    'tracing on: exporting spans over OTLP/HTTP',
  );
  return {
    async shutdown() {
      await sdk.shutdown();
    },
  };
}
