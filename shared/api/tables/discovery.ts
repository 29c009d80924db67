/**
 * The EndpointSlice printer, as Kubernetes' printEndpointSlice prints it: NAME ADDRESSTYPE PORTS
 * ENDPOINTS AGE, ports and addresses each listed up to three, then `+ N more...`, `<unset>` for none.
 */
import { AGE_COLUMN, NAME_COLUMN, age, column, type Loose, type PrintContext, type Printer } from './format.js';

const SLICE = 'io.k8s.api.discovery.v1.EndpointSlice';

/** listWithMore joins up to `max` items and says how many more there were (upstream's listWithMoreString). */
function listWithMore(items: readonly string[], max = 3): string {
  if (items.length === 0) return '<unset>';
  const text = items.slice(0, max).join(',');
  return items.length > max ? `${text} + ${items.length - max} more...` : text;
}

/** formatDiscoveryPorts prints a slice's ports: the number, else the name, else `*`. */
export function formatDiscoveryPorts(slice: Loose): string {
  return listWithMore(((slice.ports ?? []) as Loose[]).map((p) => (typeof p.port === 'number' ? String(p.port) : typeof p.name === 'string' ? p.name : '*')));
}

/** formatDiscoveryEndpoints prints a slice's endpoint addresses. */
export function formatDiscoveryEndpoints(slice: Loose): string {
  return listWithMore(((slice.endpoints ?? []) as Loose[]).flatMap((e) => (e.addresses ?? []) as string[]));
}

/** ENDPOINTSLICE_PRINTER: NAME ADDRESSTYPE PORTS ENDPOINTS AGE. */
export const ENDPOINTSLICE_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('AddressType', 'string', [SLICE, 'addressType']),
    column('Ports', 'string', [SLICE, 'ports']),
    column('Endpoints', 'string', [SLICE, 'endpoints']),
    AGE_COLUMN,
  ],
  cells: (slice: Loose, ctx: PrintContext) => [slice.metadata?.name ?? '', slice.addressType ?? '', formatDiscoveryPorts(slice), formatDiscoveryEndpoints(slice), age(slice, ctx)],
};
