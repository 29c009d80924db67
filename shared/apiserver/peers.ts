/**
 * The functions other modules of the domain core provide to the API server (tables, schemas,
 * patches, discovery), gathered in one object so handlers receive them explicitly and tests can
 * replace one.
 */
import type { ResourceType } from '../api/resources.js';
import { serveDiscovery } from './discovery.js';
import { toTable } from '../api/tables.js';
import { unknownFields } from '../api/schema.js';
import { applyPatch } from '../api/patch/index.js';
import { serverSideApply, trackManagedFields } from '../api/patch/apply.js';

/** TableOptions are the server-side printing options (`as=Table`). */
export interface TableOptions {
  wide: boolean;
  includeObject: 'None' | 'Metadata' | 'Object';
  listMeta?: Record<string, unknown>;
}

/** Peers are the functions the handlers call; optional so a test (or a slimmer host) can leave one out. */
export interface Peers {
  serveDiscovery?: (request: Request, url: URL, options?: { gitVersion?: string }) => Promise<Response | undefined>;
  toTable?: (resource: ResourceType, objects: readonly Record<string, unknown>[], options: TableOptions) => Record<string, unknown>;
  unknownFields?: (apiVersion: string, kind: string, obj: unknown) => string[];
  applyPatch?: (type: 'json' | 'merge' | 'strategic', original: Record<string, unknown>, patch: unknown, kind: { apiVersion: string; kind: string }) => Record<string, unknown>;
  serverSideApply?: (current: Record<string, unknown> | undefined, applied: Record<string, unknown>, options: { manager: string; force: boolean; now: string }) => Record<string, unknown>;
  trackManagedFields?: (previous: Record<string, unknown> | undefined, next: Record<string, unknown>, options: { manager: string; operation: 'Update' | 'Apply'; subresource?: string; now: string }) => Record<string, unknown>;
}

/** DEFAULT_PEERS are the real implementations. */
export const DEFAULT_PEERS: Peers = {
  serveDiscovery, toTable, unknownFields, applyPatch,
  serverSideApply: serverSideApply as Peers['serverSideApply'],
  trackManagedFields: trackManagedFields as Peers['trackManagedFields'],
};
