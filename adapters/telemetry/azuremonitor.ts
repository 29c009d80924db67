/**
 * OpenTelemetry traces and metrics to Azure Monitor (Application Insights), with the Azure
 * Monitor OpenTelemetry distro (`@azure/monitor-opentelemetry`). Started only when a connection
 * string is configured (APPLICATIONINSIGHTS_CONNECTION_STRING), and imported only then: the distro
 * and the OpenTelemetry SDK it brings take a noticeable time to load, which a cluster without
 * Application Insights never pays.
 *
 * What goes out: every API request as a server span (shared/telemetry/requestlog.ts), which
 * Application Insights shows as a request with its `coracle.request_id`; the distro's standard
 * metrics (request rate and duration). Its automatic instrumentations are off: they patch
 * modules as they load, which a lazy start after the app loaded cannot do for ES modules, and the
 * API's own spans already name each request as Kubernetes does.
 */
import { metrics, trace } from '@opentelemetry/api';

/** AzureMonitorTelemetry is the running exporter. */
export interface AzureMonitorTelemetry {
  /** flush exports what is buffered now (spans and metrics). */
  flush(): Promise<void>;
  /** shutdown flushes and stops exporting. */
  shutdown(): Promise<void>;
}

interface Flushable {
  forceFlush?(): Promise<void>;
  getDelegate?(): unknown;
}

/** flushProvider flushes an OpenTelemetry global provider (through the API's proxy to the SDK's). */
async function flushProvider(provider: unknown): Promise<void> {
  const p = provider as Flushable;
  const target = (p.getDelegate?.() ?? p) as Flushable;
  await target.forceFlush?.();
}

/** AzureMonitorOptions tune the export. */
export interface AzureMonitorOptions {
  /**
   * Spans sampled per second (default: the distro's 5, rate-limited sampling, which keeps the
   * in-process controllers' many loopback requests from filling the bill); 0 sends every request.
   */
  tracesPerSecond?: number;
}

/** startAzureMonitor registers the Azure Monitor distro as the process's OpenTelemetry SDK, exporting with `connectionString`. */
export async function startAzureMonitor(connectionString: string, options: AzureMonitorOptions = {}): Promise<AzureMonitorTelemetry> {
  const { useAzureMonitor, shutdownAzureMonitor } = await import('@azure/monitor-opentelemetry');
  useAzureMonitor({
    azureMonitorExporterOptions: { connectionString },
    ...(options.tracesPerSecond !== undefined ? { tracesPerSecond: options.tracesPerSecond, samplingRatio: 1 } : {}),
    enableLiveMetrics: false,
    instrumentationOptions: {
      http: { enabled: false }, azureSdk: { enabled: false }, mongoDb: { enabled: false }, mySql: { enabled: false },
      postgreSql: { enabled: false }, redis: { enabled: false }, bunyan: { enabled: false }, winston: { enabled: false },
    },
  });
  const flush = async () => {
    await flushProvider(trace.getTracerProvider());
    await flushProvider(metrics.getMeterProvider());
  };
  return {
    flush,
    async shutdown() {
      await flush();
      await shutdownAzureMonitor();
    },
  };
}
