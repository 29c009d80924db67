/**
 * Output negotiation for reads: plain JSON, a meta.k8s.io Table (`kubectl get`'s server-side
 * printing), or PartialObjectMetadata (metadata-only clients). Only JSON encodings are served;
 * clients that also accept protobuf (client-go) fall back to the JSON they get.
 */
import type { ResourceType } from '../api/resources.js';
import { ApiError } from '../api/status.js';
import { readMetadata, type KubeObject } from '../api/objects.js';
import type { Peers } from './peers.js';

/** OutputKind is what the client asked the objects to be rendered as. */
export type OutputKind = 'Object' | 'Table' | 'PartialObjectMetadata';

/** negotiateOutput reads the Accept header: the first acceptable JSON rendering wins. */
export function negotiateOutput(request: Request): OutputKind {
  const accept = request.headers.get('accept') ?? '';
  if (accept.trim() === '') return 'Object';
  let sawAcceptable = false;
  for (const clause of accept.split(',')) {
    const [type, ...params] = clause.split(';').map((s) => s.trim());
    if (!['application/json', '*/*', 'application/*', 'application/yaml'].includes(type.toLowerCase())) continue;
    const p = Object.fromEntries(params.map((kv) => kv.split('=').map((s) => s.trim())));
    if (p.as === undefined) return 'Object';
    if (p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1')) {
      if (p.as === 'Table') return 'Table';
      if (p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') return 'PartialObjectMetadata';
    }
    sawAcceptable = true;
  }
  if (sawAcceptable || /protobuf|cbor/.test(accept)) return 'Object';
  throw new ApiError(406, 'NotAcceptable', `only the following media types are accepted: application/json, application/yaml`);
}

function includeObjectOf(query: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  const v = query.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function partial(obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: readMetadata(obj) };
}

/** renderOne renders a single object for `get`. */
export function renderOne(out: OutputKind, peers: Peers, resource: ResourceType, query: URLSearchParams, obj: KubeObject): KubeObject {
  if (out === 'Table' && peers.toTable) return peers.toTable(resource, [obj], { wide: true, includeObject: includeObjectOf(query) });
  if (out === 'PartialObjectMetadata') return partial(obj);
  return obj;
}

/** renderList renders a list (items already filtered) with its list metadata. */
export function renderList(
  out: OutputKind, peers: Peers, resource: ResourceType, query: URLSearchParams, items: KubeObject[], listMeta: Record<string, unknown>,
): KubeObject {
  if (out === 'Table' && peers.toTable) return peers.toTable(resource, items, { wide: true, includeObject: includeObjectOf(query), listMeta });
  if (out === 'PartialObjectMetadata') {
    return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: items.map(partial) };
  }
  const apiVersion = resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
  return { kind: resource.listKind, apiVersion, metadata: listMeta, items };
}

/** renderWatchObject renders one watch event's object (a one-row Table, headers on the first only). */
export function renderWatchObject(
  out: OutputKind, peers: Peers, resource: ResourceType, query: URLSearchParams, obj: KubeObject, first: boolean,
): KubeObject {
  if (out === 'Table' && peers.toTable) {
    const table = peers.toTable(resource, [obj], { wide: true, includeObject: includeObjectOf(query) });
    return first ? table : { ...table, columnDefinitions: [] };
  }
  return out === 'PartialObjectMetadata' ? partial(obj) : obj;
}
