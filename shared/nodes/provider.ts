/**
 * The NodeProvider port: the machines behind a cluster's nodes, grouped in pools. It creates,
 * replaces and removes machines that run the node agent at a given version; it knows nothing of
 * Kubernetes objects (the agent registers its Node with the API server by itself, and callers
 * cordon and drain through the API before they replace or remove a node).
 *
 * Contract (checked through the port alone by `shared/nodes/contract.ts`, which every adapter
 * runs):
 * - A node's `name` is the name its agent registers as (the Node object's name). It is unique in
 *   the provider and stable for the node's life, across `replace` too.
 * - `list(pool)` returns the pool's nodes that exist now, in no particular order; a pool that has
 *   no nodes (or never existed) lists as `[]`.
 * - `add(pool, version)` creates one more node in the pool, running the agent at `version`, and
 *   resolves with it once the machine exists and its agent has been started. It does NOT wait for
 *   the Node to be Ready in the API (callers watch for that). Other nodes of the pool are not
 *   touched: their version stays theirs (a pool may run mixed versions during an upgrade).
 * - `replace(pool, name, version)` rebuilds the node in place from a clean machine at `version`:
 *   same name, fresh disk (containers, images and local state are gone). The node is down while
 *   it is rebuilt, so callers drain it first. Unknown `name` → `NotFound`.
 * - `remove(pool, name)` deletes the node's machine; resolves once it is gone from `list`.
 *   Removing a node that does not exist resolves (idempotent, like a Kubernetes delete that finds
 *   nothing: the caller's goal — no such node — holds).
 * - Calls on different nodes may run concurrently; calls on the same node must not (the caller,
 *   e.g. an upgrade orchestration, serializes per node).
 * - Failures are NodeProviderErrors classified by `reason`, never by message text.
 * - After `close()` a call may be refused with `Unavailable`, but it is never answered as done
 *   without being done (a `remove` that resolves means the machine will not come back).
 *
 * Versions are opaque strings to the port (the agent's version, e.g. `0.1.0`); comparing them is
 * the caller's business (an upgrade keeps the kubelet rule: never newer than the API server).
 */

/** NodeState is where a node's machine is in its life. */
export type NodeState = 'creating' | 'running' | 'rebuilding' | 'deleting' | 'failed';

/** ProvidedNode is one node of a pool, as its provider sees the machine. */
export interface ProvidedNode {
  /** The node's name (its Node object's name). */
  name: string;
  pool: string;
  /** The agent version the machine was created or last rebuilt at. */
  version: string;
  state: NodeState;
  /** The provider's id of the machine (`local://<pid>`, an Azure VM resource id). */
  providerId: string;
}

/** NodeProviderErrorReason classifies a failure. */
export type NodeProviderErrorReason =
  /** The pool or node does not exist. */
  | 'NotFound'
  /** The request can never succeed as given (bad pool name, version, quota exceeded). */
  | 'Invalid'
  /** The provider could not be reached or failed; the call may be retried. */
  | 'Unavailable';

/** NodeProviderError is every failure a NodeProvider reports. */
export class NodeProviderError extends Error {
  constructor(readonly reason: NodeProviderErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NodeProviderError';
  }
}

/** NodeProvider creates, rebuilds and deletes the machines of node pools; see the file's contract. */
export interface NodeProvider {
  /** list returns the pool's current nodes (`[]` for an empty or unknown pool). */
  list(pool: string): Promise<ProvidedNode[]>;
  /** add creates one node in the pool at `version` and resolves once its agent has started. */
  add(pool: string, version: string): Promise<ProvidedNode>;
  /** replace rebuilds node `name` in place at `version` (same name, clean machine); NotFound if absent. */
  replace(pool: string, name: string, version: string): Promise<ProvidedNode>;
  /** remove deletes node `name`; resolves if it is already gone. */
  remove(pool: string, name: string): Promise<void>;
  /** close releases the provider's own resources (local: stops the agent processes it started). */
  close(): Promise<void>;
}

/** POOL_NAME is what a pool name must look like: it prefixes host names (Azure: 1–9 characters). */
export const POOL_NAME = /^[a-z][a-z0-9]{0,8}$/;

/** checkPoolName throws an Invalid NodeProviderError unless `pool` matches POOL_NAME. */
export function checkPoolName(pool: string): void {
  if (!POOL_NAME.test(pool)) throw new NodeProviderError('Invalid', `pool name "${pool}" must be 1-9 lowercase letters and digits, starting with a letter`);
}

/**
 * awaitedNodeProvider is a NodeProvider whose calls wait until `provider` is there: a host serves
 * (and resumes its orchestrations) before its nodes are back after a restart or a handover, and an
 * upgrade step that adds a node then waits for them rather than failing. Its close does nothing:
 * the provider's owner closes it.
 */
export function awaitedNodeProvider(provider: Promise<NodeProvider>): NodeProvider {
  const ready = provider.catch((err: unknown) => {
    throw new NodeProviderError('Unavailable', `the nodes did not start: ${(err as Error).message ?? String(err)}`, { cause: err });
  });
  // A provider that never comes is reported only to a caller that asked for it.
  ready.catch(() => undefined);
  return {
    list: async (pool) => (await ready).list(pool),
    add: async (pool, version) => (await ready).add(pool, version),
    replace: async (pool, name, version) => (await ready).replace(pool, name, version),
    remove: async (pool, name) => (await ready).remove(pool, name),
    close: async () => undefined,
  };
}
