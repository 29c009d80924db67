/**
 * `coracle cost`: what the Azure deployment costs, from the templates' parameters
 * (infra/main.bicepparam: node pools, their VM sizes and counts) and the list prices in
 * cli/cost-prices.json (kept in one file, with their region, date and source). Prints every
 * resource with its SKU and meter and the idle monthly cost, then the cost of 1,000 API writes.
 *
 * Per API write, as the Cosmos adapter writes it (adapters/store/cosmos/batch.ts): one
 * transactional batch of three item operations — replace the revision counter, write the object,
 * create its history item — plus the change-feed trigger reading the change. RU per operation is
 * an ESTIMATE for a ~1 KB item under the container's narrow indexing policy (about 6 RU a write,
 * 1 RU a read); the emulator used in tests reports no real charges.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The repository: cli/ is under it, or dist/cli/ when built. */
const ROOT = path.basename(path.dirname(HERE)) === 'dist' ? path.resolve(HERE, '..', '..') : path.resolve(HERE, '..');
const PRICES_FILE = path.join(ROOT, 'cli', 'cost-prices.json');

/** Prices is the shape of cli/cost-prices.json. */
type Prices = Record<string, any>;

/** CostLine is one resource's idle monthly cost. */
export interface CostLine {
  resource: string;
  sku: string;
  meter: string;
  monthly: number;
}

/** NodePoolParam is one entry of the `nodePools` parameter. */
export interface NodePoolParam {
  name: string;
  count: number;
  vmSize: string;
}

/** WRITE_MODEL is how one API write is counted (see the module comment). */
export const WRITE_MODEL = {
  cosmosWriteOperations: 3,
  ruPerWriteOperation: 6,
  cosmosChangeFeedReads: 1,
  ruPerRead: 1,
  /** The HTTP invocation and the change-feed invocation (batched: at most one per write). */
  functionExecutions: 2,
  gbSecondsPerExecution: 2 * 0.05,
  /** A pod write bound to a node: send, receive, complete on the node's queue. */
  serviceBusOperations: 3,
};

/** nodePoolsFromParams reads `param nodePools = [...]` of a .bicepparam file. */
export function nodePoolsFromParams(text: string): NodePoolParam[] {
  const block = /param nodePools = \[([\s\S]*?)\n\]/.exec(text)?.[1] ?? '';
  return [...block.matchAll(/\{\s*name:\s*'([^']+)',\s*count:\s*(\d+),\s*vmSize:\s*'([^']+)'\s*\}/g)].map((m) => ({ name: m[1], count: Number(m[2]), vmSize: m[3] }));
}

/** idleCost lists the idle monthly cost of every billed resource of the deployment. */
export function idleCost(p: Prices, pools: readonly NodePoolParam[]): CostLine[] {
  const h = p.hoursPerMonth as number;
  const lines: CostLine[] = [];
  for (const pool of pools) {
    const vm = p.vm[pool.vmSize];
    if (!vm) throw new Error(`no price for VM size ${pool.vmSize} in ${PRICES_FILE}`);
    lines.push({ resource: `node pool ${pool.name}: ${pool.count} VM(s)`, sku: pool.vmSize, meter: vm.meter, monthly: pool.count * vm.price * h });
    lines.push({ resource: `node pool ${pool.name}: OS disks`, sku: 'StandardSSD_LRS 64 GiB', meter: p.disk.StandardSSD_LRS_64.meter, monthly: pool.count * p.disk.StandardSSD_LRS_64.price });
  }
  lines.push({ resource: 'NAT gateway', sku: 'Standard', meter: p.natGateway.meter, monthly: p.natGateway.price * h });
  lines.push({ resource: 'NAT public IP', sku: 'Standard static IPv4', meter: p.publicIp.meter, monthly: p.publicIp.price * h });
  lines.push({ resource: 'Service Bus namespace', sku: 'Standard', meter: p.serviceBus.meter, monthly: p.serviceBus.price * h });
  lines.push({ resource: 'Cosmos DB account', sku: 'serverless', meter: `${p.cosmos.storageMeter} (1 GB assumed idle)`, monthly: p.cosmos.storagePrice });
  lines.push({ resource: 'Function App', sku: 'Flex Consumption FC1, no always-ready', meter: p.functions.meter, monthly: 0 });
  lines.push({ resource: 'Storage account', sku: 'Standard_LRS StorageV2 Hot', meter: `${p.storage.meter} (1 GB assumed)`, monthly: p.storage.price });
  lines.push({ resource: 'Log Analytics + Application Insights', sku: 'PerGB2018', meter: `${p.logAnalytics.meter} (idle: under the free 5 GB)`, monthly: 0 });
  return lines;
}

/** writesCost is the cost of `writes` API writes beyond the free grants and included operations. */
export function writesCost(p: Prices, writes: number): { lines: CostLine[]; total: number } {
  const m = WRITE_MODEL;
  const ru = writes * (m.cosmosWriteOperations * m.ruPerWriteOperation + m.cosmosChangeFeedReads * m.ruPerRead);
  const lines: CostLine[] = [
    { resource: `Cosmos DB: ${ru} RU`, sku: 'serverless', meter: p.cosmos.meter, monthly: (ru / 1e6) * p.cosmos.ruPrice },
    { resource: `Functions: ${writes * m.functionExecutions} executions`, sku: 'Flex Consumption', meter: p.functions.meter, monthly: ((writes * m.functionExecutions) / 1e6) * p.functions.executionPrice },
    { resource: `Functions: ${writes * m.gbSecondsPerExecution * m.functionExecutions} GB-s`, sku: 'Flex Consumption 2048 MB', meter: p.functions.gbSecondMeter, monthly: writes * m.gbSecondsPerExecution * m.functionExecutions * p.functions.gbSecondPrice },
    { resource: `Service Bus: ${writes * m.serviceBusOperations} operations`, sku: 'Standard', meter: p.serviceBus.operationsMeter, monthly: ((writes * m.serviceBusOperations) / 1e6) * p.serviceBus.operationsPrice },
  ];
  return { lines, total: lines.reduce((sum, l) => sum + l.monthly, 0) };
}

const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;

/** costReport renders the statement `coracle cost` prints. */
export function costReport(p: Prices, pools: readonly NodePoolParam[]): string {
  const idle = idleCost(p, pools);
  const writes = writesCost(p, 1000);
  const row = (l: CostLine) => `  ${l.resource.padEnd(44)} ${l.sku.padEnd(38)} ${usd(l.monthly).padStart(9)}  ${l.meter}`;
  return [
    `Prices: ${p.currency}, ${p.region}, list prices of ${p.date} (${PRICES_FILE}).`,
    `Source: ${p.source}`,
    '',
    `Idle cluster, per month (${p.hoursPerMonth} h), from infra/main.bicepparam:`,
    ...idle.map(row),
    `  ${'total'.padEnd(83)} ${usd(idle.reduce((s, l) => s + l.monthly, 0)).padStart(9)}`,
    `  free: ${p.free.join(', ')}`,
    '',
    '1,000 API writes (past the free grants; Service Bus operations are within the 13 M included in the base charge until then):',
    ...writes.lines.map(row),
    `  ${'total'.padEnd(83)} ${usd(writes.total).padStart(9)}`,
    `  per write: ${WRITE_MODEL.cosmosWriteOperations} Cosmos DB item writes in one transactional batch (~${WRITE_MODEL.ruPerWriteOperation} RU each, estimated) + ${WRITE_MODEL.cosmosChangeFeedReads} change-feed read, ${WRITE_MODEL.functionExecutions} Functions executions, ${WRITE_MODEL.serviceBusOperations} Service Bus operations (pod writes only)`,
  ].join('\n');
}

/** runCost prints the cost statement. */
export async function runCost(out: (text: string) => void = (t) => process.stdout.write(`${t}\n`)): Promise<void> {
  const prices = JSON.parse(await readFile(PRICES_FILE, 'utf8')) as Prices;
  const pools = nodePoolsFromParams(await readFile(path.join(ROOT, 'infra', 'main.bicepparam'), 'utf8'));
  out(costReport(prices, pools));
}
