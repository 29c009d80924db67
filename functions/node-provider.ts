/**
 * The process's NodeProvider: the in-process host of `coracle up` hands over its LocalNodeProvider
 * (the agents are its children), and the durable instance of `coracle up --instances` an
 * IpcNodeProvider to its supervisor's (local/supervisor-ipc.ts). A live object, not a setting,
 * so it is handed over like useAppSettings' record. This module imports nothing of
 * `@azure/functions`, so a host may set it before it loads the app. On Azure none is handed over,
 * and functions/runtime.ts's getNodeProvider opens the scale sets the configuration names
 * (adapters/nodes/azure.ts).
 *
 * The process's ControlPlaneHost (shared/release/control-plane.ts) is handed over the same way:
 * `coracle up` gives its own, the durable instance of `--instances` an IPC one to its supervisor.
 * When none is handed over, the upgrade step uses the Azure one its configuration names
 * (functions/releases.ts).
 */
import type { NodeProvider } from '../shared/nodes/provider.js';
import type { ControlPlaneHost } from '../shared/release/control-plane.js';

let nodeProvider: NodeProvider | undefined;

/** useNodeProvider sets the process's NodeProvider. */
export function useNodeProvider(provider: NodeProvider | undefined): void {
  nodeProvider = provider;
}

/** getNodeProvider returns the process's NodeProvider, or undefined when it has none (upgrades then cannot add or remove nodes). */
export function getNodeProvider(): NodeProvider | undefined {
  return nodeProvider;
}

let controlPlaneHost: ControlPlaneHost | undefined;

/** useControlPlaneHost sets the process's ControlPlaneHost. */
export function useControlPlaneHost(host: ControlPlaneHost | undefined): void {
  controlPlaneHost = host;
}

/** getControlPlaneHost returns the process's ControlPlaneHost, or undefined when nothing can move the control plane (its upgrade step then fails, saying so). */
export function getControlPlaneHost(): ControlPlaneHost | undefined {
  return controlPlaneHost;
}
