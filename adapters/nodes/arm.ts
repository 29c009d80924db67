/**
 * What the ARM adapters of the NodeProvider's side share (azure.ts: scale sets through
 * `@azure/arm-compute`; routes-azure.ts: route tables through `@azure/arm-network`): the client
 * options for an endpoint (a stand-in's, with its CA), and the mapping of ARM's HTTP failures to
 * NodeProviderError reasons.
 */
import { NodeProviderError } from '../../shared/nodes/provider.js';

/** ArmEndpointOptions point an ARM client at a non-default endpoint (tests: the stand-in). */
export interface ArmEndpointOptions {
  /** ARM endpoint (default Azure's public cloud). */
  endpoint?: string;
  /** TLS trust for a stand-in endpoint. */
  ca?: string;
}

/** armClientOptions are an ARM SDK client's options for `o` (endpoint and TLS trust, when given). */
export function armClientOptions(o: ArmEndpointOptions): { endpoint?: string; tlsOptions?: { ca: string } } {
  return { ...(o.endpoint ? { endpoint: o.endpoint } : {}), ...(o.ca ? { tlsOptions: { ca: o.ca } } : {}) };
}

/** armStatusOf is the HTTP status of an ARM SDK failure (undefined: no answer). */
export function armStatusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

/** classifyArmError maps an ARM failure to a NodeProviderError: 404 NotFound, other 4xx but 429 Invalid, the rest Unavailable. */
export function classifyArmError(err: unknown, what: string): NodeProviderError {
  if (err instanceof NodeProviderError) return err;
  const status = armStatusOf(err);
  const reason = status === 404 ? 'NotFound' : status !== undefined && status >= 400 && status < 500 && status !== 429 ? 'Invalid' : 'Unavailable';
  return new NodeProviderError(reason, `${what}: ${(err as Error).message}`, { cause: err });
}
