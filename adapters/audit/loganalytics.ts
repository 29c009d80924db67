/**
 * The Azure AuditSink: events go to a Log Analytics workspace through the Logs Ingestion API
 * (`@azure/monitor-ingestion`: a data collection endpoint, a data collection rule whose stream
 * takes the audit Event's fields, signed with the app's managed identity, which needs the
 * "Monitoring Metrics Publisher" role on the rule). Events are batched (every second, or every
 * 500 events) so a request never waits for Azure Monitor; an upload that fails is reported once
 * per failure streak and its events dropped, as kube-apiserver's batching backend does when its
 * buffer is full.
 */
import type { TokenCredential } from '@azure/core-auth';
import { LogsIngestionClient } from '@azure/monitor-ingestion';
import type { AuditEvent, AuditSink } from '../../shared/audit/audit.js';

/** LogAnalyticsSinkOptions name the endpoint, the rule and its stream. */
export interface LogAnalyticsSinkOptions {
  /** The data collection endpoint's logs ingestion URL. */
  endpoint: string;
  /** The data collection rule's immutable id (`dcr-…`). */
  ruleId: string;
  /** The rule's input stream (`Custom-…`). */
  stream: string;
  credential: TokenCredential;
  /** How often buffered events are sent (default 1000 ms). */
  flushIntervalMs?: number;
}

const BATCH = 500;

/** logAnalyticsAuditSink uploads events to Log Analytics in batches. */
export function logAnalyticsAuditSink(options: LogAnalyticsSinkOptions): AuditSink {
  const client = new LogsIngestionClient(options.endpoint, options.credential);
  let buffer: Record<string, unknown>[] = [];
  let failing = false;
  let sending: Promise<void> = Promise.resolve();
  const flush = () => {
    if (buffer.length === 0) return sending;
    const batch = buffer;
    buffer = [];
    // TimeGenerated is the column every Log Analytics table needs.
    sending = sending.then(() => client.upload(options.ruleId, options.stream, batch)).then(() => {
      failing = false;
    }, (err: unknown) => {
      if (!failing) console.warn(`audit: Log Analytics upload failed, ${batch.length} events dropped: ${(err as Error).message}`);
      failing = true;
    });
    return sending;
  };
  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1_000);
  timer.unref();
  return {
    write(event: AuditEvent) {
      buffer.push({ TimeGenerated: event.stageTimestamp, ...event });
      if (buffer.length >= BATCH) void flush();
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
