/**
 * The process's NodeProvider: the in-process host of `coracle up` hands over its LocalNodeProvider
 * (the agents are its children), and the durable instance of `coracle up --instances` an
 * IpcNodeProvider to its supervisor's (local/node-provider-ipc.ts). A live object, not a setting,
 * so it is handed over like useAppSettings' record. This module imports nothing of
 * `@azure/functions`, so a host may set it before it loads the app. On Azure the provider would be
 * built from the configuration (adapters/nodes/azure.ts); that is not wired yet.
 */
import type { NodeProvider } from '../shared/nodes/provider.js';

let nodeProvider: NodeProvider | undefined;

/** useNodeProvider sets the process's NodeProvider. */
export function useNodeProvider(provider: NodeProvider | undefined): void {
  nodeProvider = provider;
}

/** getNodeProvider returns the process's NodeProvider, or undefined when it has none (upgrades then cannot add or remove nodes). */
export function getNodeProvider(): NodeProvider | undefined {
  return nodeProvider;
}
