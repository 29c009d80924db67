/**
 * Reading a Prometheus text exposition in tests with a real parser (the npm package
 * parse-prometheus-text-format, prom2json's output shape), never with regular expressions.
 * Its one known limit: a histogram with labels comes back as one folded set of buckets without
 * its labels, `_count` or `_sum`, so tests read histogram counts from prom-client's registry
 * (unit) and check only the family's type here.
 */
import parsePrometheusTextFormat, { type PrometheusFamily, type PrometheusSample } from 'parse-prometheus-text-format';

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
