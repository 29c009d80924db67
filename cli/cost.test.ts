import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { costReport, idleCost, nodePoolsFromParams, writesCost } from './cost.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prices = JSON.parse(readFileSync(path.join(ROOT, 'cli', 'cost-prices.json'), 'utf8'));
const params = readFileSync(path.join(ROOT, 'infra', 'main.bicepparam'), 'utf8');

describe('coracle cost', () => {
  it('reads the node pools from the parameters file', () => {
    expect(nodePoolsFromParams(params)).toEqual([{ name: 'pool1', count: 2, vmSize: 'Standard_B2s' }]);
  });

  it('prices every billed resource of the small cluster from the price file', () => {
    const lines = idleCost(prices, nodePoolsFromParams(params));
    const vms = lines.find((l) => l.sku === 'Standard_B2s')!;
    expect(vms.monthly).toBeCloseTo(2 * prices.vm.Standard_B2s.price * 730, 6);
    expect(lines.map((l) => l.resource)).toEqual(expect.arrayContaining(['NAT gateway', 'NAT public IP', 'Service Bus namespace', 'Cosmos DB account', 'Function App', 'Storage account']));
  });

  it('counts 1,000 writes as RU, executions and operations at the file\'s prices', () => {
    const { lines, total } = writesCost(prices, 1000);
    expect(lines[0].resource).toBe('Cosmos DB: 19000 RU');
    expect(lines[0].monthly).toBeCloseTo(0.019 * prices.cosmos.ruPrice, 9);
    expect(total).toBeCloseTo(lines.reduce((s, l) => s + l.monthly, 0), 9);
  });

  it('prints the prices\' date and source with the statement', () => {
    const text = costReport(prices, nodePoolsFromParams(params));
    expect(text).toContain(prices.date);
    expect(text).toContain('1,000 API writes');
  });

  it('fails on a VM size it has no price for', () => {
    expect(() => idleCost(prices, [{ name: 'x', count: 1, vmSize: 'Standard_Nope' }])).toThrow(/no price for VM size Standard_Nope/);
  });
});
