/**
 * The ControlPlaneHost port: what runs the control plane's own processes, asked by the cluster
 * upgrade to move them onto another release. Locally `coracle up` is the host (it hands over to
 * the release's own `coracle up`, keeping the data folder, the port and the nodes' containers; in
 * the Azure-shaped mode its supervisor restarts the instances one at a time from the release);
 * on Azure it replaces the function app's package (adapters/releases/flex.ts).
 *
 * Contract:
 * - `running()` answers the release every process of the control plane runs now, or undefined
 *   while they differ (a move under way).
 * - `moveTo(version)` starts the move and resolves once it is under way (not once it is done:
 *   the caller's own process may be one that moves). Idempotent: asking again for the release a
 *   move is already going to does not start a second one. A release the host cannot run (not in
 *   the catalog) is refused with an Error naming it.
 */
export interface ControlPlaneHost {
  running(): Promise<string | undefined>;
  moveTo(version: string): Promise<void>;
}
