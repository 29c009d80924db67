import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { counterValue, parseExposition, registryValue } from '../../test/support/prometheus.js';
import { DurableMetrics } from './durable.js';

describe('durable orchestration metrics', () => {
  it('counts starts and ends from the status around each step, and reads the instance counts when scraped', async () => {
    const registry = new Registry();
    const metrics = new DurableMetrics(registry);
    metrics.stepped('scheduler', 'Pending', 'Running'); // started
    metrics.stepped('scheduler', 'Running', 'Running'); // a step more: nothing
    metrics.stepped('scheduler', 'Running', 'Completed');
    metrics.stepped('rollout', 'Pending', 'Failed'); // started and failed in one step
    metrics.activityRan('bindPod', 'Completed', 0.01);
    metrics.activityRan('bindPod', 'Failed', 0.02);
    metrics.instanceCounts = () => [{ name: 'scheduler', status: 'Running', count: 3 }, { name: 'rollout', status: 'Failed', count: 1 }];
    const value = (name: string, labels: Record<string, string>) => registryValue(registry, name, labels);
    expect(await value('coracle_durable_orchestrations_started_total', { name: 'scheduler' })).toBe(1);
    expect(await value('coracle_durable_orchestrations_started_total', { name: 'rollout' })).toBe(1);
    expect(await value('coracle_durable_orchestrations_finished_total', { name: 'scheduler', status: 'Completed' })).toBe(1);
    expect(await value('coracle_durable_orchestrations_finished_total', { name: 'rollout', status: 'Failed' })).toBe(1);
    expect(await registryValue(registry, 'coracle_durable_activity_duration_seconds', { name: 'bindPod' }, 'count')).toBe(2);
    const families = parseExposition(await registry.metrics());
    expect(counterValue(families, 'coracle_durable_orchestrations', { name: 'scheduler', status: 'Running' })).toBe(3);
    // Counted afresh at each scrape: an instance that ended leaves its old series.
    metrics.instanceCounts = () => [{ name: 'scheduler', status: 'Completed', count: 3 }];
    const later = parseExposition(await registry.metrics());
    expect(counterValue(later, 'coracle_durable_orchestrations', { name: 'scheduler', status: 'Running' })).toBe(0);
    expect(counterValue(later, 'coracle_durable_orchestrations', { name: 'scheduler', status: 'Completed' })).toBe(3);
  });
});
