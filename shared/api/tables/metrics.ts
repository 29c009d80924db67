/**
 * Printers for the Metrics API's kinds, as metrics-server's table convertor prints them
 * (addMetricsToTable): NAME, cpu, memory (a pod's are its containers' sums) and WINDOW.
 */
import { parseQuantity } from '../quantity.js';
import { NAME_COLUMN, column, type Loose, type Printer } from './format.js';

const COLUMNS = [
  NAME_COLUMN,
  column('cpu', 'string', 'CPU usage rate over the window, in nanocores.', { format: 'quantity' }),
  column('memory', 'string', 'Memory working set at the end of the window.', { format: 'quantity' }),
  column('Window', 'string', 'The length of the window the usage was measured over.', { format: 'duration' }),
];

/** sum adds up quantities in metrics-server's units: nanocores for CPU, kibibytes for memory. */
function sum(values: unknown[], unit: 'n' | 'Ki'): string {
  const total = values.reduce<number>((acc, v) => acc + (parseQuantity(v as string) ?? 0), 0);
  return unit === 'n' ? `${Math.round(total * 1e9)}n` : `${Math.floor(total / 1024)}Ki`;
}

/** NODEMETRICS_PRINTER: NAME cpu memory WINDOW. */
export const NODEMETRICS_PRINTER: Printer = {
  columns: COLUMNS,
  cells: (m: Loose) => [m.metadata?.name ?? '', m.usage?.cpu ?? '', m.usage?.memory ?? '', m.window ?? ''],
};

/** PODMETRICS_PRINTER: NAME cpu memory WINDOW, the containers' usage summed. */
export const PODMETRICS_PRINTER: Printer = {
  columns: COLUMNS,
  cells: (m: Loose) => {
    const containers = (m.containers ?? []) as Loose[];
    return [m.metadata?.name ?? '', sum(containers.map((c) => c.usage?.cpu), 'n'), sum(containers.map((c) => c.usage?.memory), 'Ki'), m.window ?? ''];
  },
};
