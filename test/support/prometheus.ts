/**
 * Reading a Prometheus text exposition in tests with a real parser (the npm package
 * parse-prometheus-text-format, prom2json's output shape), never with regular expressions.
 * Its one known limit: a histogram with labels comes back as one folded set of buckets without
 * its labels, `_count` or `_sum`, so tests read histogram counts from prom-client's registry
 * (unit) and check only the family's type here.
 */
import parsePrometheusTextFormat, { type PrometheusFamily, type PrometheusSample } from 'parse-prometheus-text-format';
import type { Registry } from 'prom-client';

/** parseExposition parses the text; it throws when the text is not the Prometheus text format. */
export function parseExposition(text: string): PrometheusFamily[] {
  return parsePrometheusTextFormat(text);
}

/** samplesOf returns the samples of family `name` whose labels include `labels`. */
export function samplesOf(families: readonly PrometheusFamily[], name: string, labels: Record<string, string> = {}): PrometheusSample[] {
  const family = families.find((f) => f.name === name);
  return (family?.metrics ?? []).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

/** counterValue sums the matching samples of a counter or gauge (0 when none matches yet). */
export function counterValue(families: readonly PrometheusFamily[], name: string, labels: Record<string, string> = {}): number {
  return samplesOf(families, name, labels).reduce((sum, m) => sum + Number(m.value ?? 0), 0);
}

/**
 * registryValue sums the samples prom-client holds in `registry` for metric `name` whose labels
 * include `labels` (0 when none): a counter's or gauge's values, or, with `series` (`count`, `sum`),
 * that series of a histogram — what the text parser folds away.
 */
export async function registryValue(registry: Registry, name: string, labels: Record<string, string> = {}, series?: 'count' | 'sum'): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  // Histogram samples name their series (`<name>_bucket`, `_count`, `_sum`); counters' and gauges' do not.
  const values = (await metric.get()).values as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
  return values
    .filter((v) => (series ? v.metricName === `${name}_${series}` : v.metricName === undefined || v.metricName === name))
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}
