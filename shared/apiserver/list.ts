/**
 * list: a consistent page of objects with label/field selectors, `limit`/`continue`, and
 * Kubernetes' `resourceVersion`/`resourceVersionMatch` semantics
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions).
 */
import { groupVersion, storageKey } from '../api/resources.js';
import { ApiError, badRequest, tooLargeResourceVersion } from '../api/status.js';
import { isEmptyFilter, matchesFilter, parseObjectFilter, indexedSelection, type ObjectFilter } from '../api/selectors.js';
import type { KubeObject } from '../api/objects.js';
import { isStoreError, type KeyValue, type ListOptions } from '../store/store.js';
import type { HandlerContext } from './context.js';
import type { Peers } from './peers.js';
import { decode, parseResourceVersion } from './storage.js';
import { jsonResponse, jsonTextResponse } from './respond.js';
import { listJson } from './objectjson.js';
import { negotiateOutput, renderList } from './output.js';
import { STREAM_PAGE, streamedListResponse } from './liststream.js';

/** ContinueToken is what a `continue` value carries: the list's revision and the last key returned. */
export interface ContinueToken {
  rv: number;
  start: string;
}

/** encodeContinue makes the opaque `continue` value. */
export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** decodeContinue reads a `continue` value (400 when it is not one of ours). */
export function decodeContinue(value: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as ContinueToken;
    if (Number.isInteger(t.rv) && t.rv > 0 && typeof t.start === 'string') return t;
  } catch {
    // fall through to the 400 below
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

const CONTINUE_EXPIRED = 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.';

/**
 * parseLimit reads `limit`: a non-negative int64 (0: no limit), capped at Number.MAX_SAFE_INTEGER,
 * more objects than any store holds. Anything else (`1e30`, `1.5`, past int64) is 400.
 */
export function parseLimit(text: string | null): number {
  if (!text) return 0;
  const integer = /^\+?\d+$/.test(text);
  if (!integer || BigInt(text) > 9223372036854775807n) {
    throw badRequest(`invalid limit: "${text}": strconv.ParseInt: parsing "${text}": ${integer ? 'value out of range' : 'invalid syntax'}`);
  }
  return Math.min(Number(text), Number.MAX_SAFE_INTEGER);
}

/** ListRequest is the validated list parameters. */
interface ListRequest {
  filter: ObjectFilter;
  /** The store's pre-filter for `filter` (indexedSelection). */
  fieldEquals?: ListOptions['fieldEquals'];
  limit: number;
  revision: number;
  startAfter?: string;
  fromContinue: boolean;
}

/** parseListRequest validates the list parameters and picks the revision to read at. */
export async function parseListRequest(ctx: HandlerContext): Promise<ListRequest> {
  const q = ctx.query;
  const filter = parseObjectFilter(ctx.info.resource.kind, q);
  const fieldEquals = indexedSelection(ctx.info.resource.kind, filter);
  const limit = parseLimit(q.get('limit'));
  const rv = q.get('resourceVersion') ?? '';
  const match = q.get('resourceVersionMatch') ?? '';
  const cont = q.get('continue') ?? '';
  if (match && !['NotOlderThan', 'Exact'].includes(match)) throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
  if (match && !rv) throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (cont) {
    if (rv && rv !== '0') throw badRequest('specifying resource version is not allowed when using continue');
    if (match) throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided');
    const token = decodeContinue(cont);
    return { filter, fieldEquals, limit, revision: token.rv, startAfter: token.start, fromContinue: true };
  }
  if (match === 'Exact') {
    if (rv === '0') throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    return { filter, fieldEquals, limit, revision: parseResourceVersion(rv), fromContinue: false };
  }
  if (rv && rv !== '0') {
    const asked = parseResourceVersion(rv);
    const current = await ctx.store.currentRevision();
    if (asked > current) throw tooLargeResourceVersion(asked, current);
  }
  return { filter, fieldEquals, limit, revision: 0, fromContinue: false };
}

/** ListPage is the filtered items and the list metadata to answer with. */
export interface ListPage {
  items: KubeObject[];
  listMeta: Record<string, unknown>;
}

/** readList reads one page under `prefix` as the request asks; filters may leave a page short. */
export async function readList(ctx: HandlerContext, prefix: string, req: ListRequest): Promise<ListPage> {
  const page = await readListEntries(ctx, prefix, req);
  return { items: page.entries.map(decode), listMeta: page.listMeta };
}

/** readListEntries is readList's page as the stored versions (not decoded unless a filter needed it). */
async function readListEntries(ctx: HandlerContext, prefix: string, req: ListRequest): Promise<{ entries: KeyValue[]; listMeta: Record<string, unknown> }> {
  const kind = ctx.info.resource.kind;
  const filtered = !isEmptyFilter(req.filter);
  const items: KeyValue[] = [];
  let revision = req.revision;
  let startAfter = req.startAfter;
  for (;;) {
    const batch = req.limit === 0 ? 0 : filtered ? Math.max(req.limit, 500) : req.limit;
    // A filtered page answers no remainingItemCount: the store need not count the range per batch.
    const page = await listAt(ctx, prefix, { revision, limit: batch, startAfter, countRemaining: !filtered }, req);
    revision = page.revision;
    for (let i = 0; i < page.items.length; i++) {
      const kv = page.items[i];
      if (filtered && !matchesFilter(kind, req.filter, decode(kv))) continue;
      items.push(kv);
      if (req.limit > 0 && items.length === req.limit) {
        const more = i < page.items.length - 1 || page.more;
        if (!more) break;
        const listMeta: Record<string, unknown> = { resourceVersion: String(revision), continue: encodeContinue({ rv: revision, start: kv.key }) };
        if (!filtered) listMeta.remainingItemCount = page.remaining;
        return { entries: items, listMeta };
      }
    }
    if (!page.more || page.items.length === 0) break;
    startAfter = page.items[page.items.length - 1].key;
  }
  return { entries: items, listMeta: { resourceVersion: String(revision) } };
}

async function listAt(
  ctx: HandlerContext, prefix: string, options: { revision: number; limit: number; startAfter?: string; countRemaining?: boolean }, req: ListRequest,
) {
  try {
    return await ctx.store.list(prefix, options.countRemaining === false ? { ...options, fieldEquals: req.fieldEquals } : options);
  } catch (err) {
    if (!isStoreError(err, 'Gone')) throw err;
    if (req.fromContinue) throw new ApiError(410, 'Expired', CONTINUE_EXPIRED);
    throw new ApiError(410, 'Expired', `The resourceVersion for the provided list is too old.`);
  }
}

/** handleList answers GET on a collection. */
export async function handleList(ctx: HandlerContext, peers: Peers): Promise<Response> {
  const { resource, namespace } = ctx.info;
  const out = negotiateOutput(ctx.request);
  const req = await parseListRequest(ctx);
  const prefix = storageKey(resource, namespace);
  if (out === 'Object' && req.limit === 0) {
    // Unpaged: read and written page by page at one revision (liststream.ts).
    let revision = req.revision;
    return streamedListResponse(ctx, req.filter, async (startAfter) => {
      const page = await listAt(ctx, prefix, { revision, limit: STREAM_PAGE, startAfter, countRemaining: false }, req);
      revision = page.revision;
      return page;
    });
  }
  const page = await readListEntries(ctx, prefix, req);
  if (out === 'Object') {
    // Plain JSON: rendered from the stored text where the store kept it (no decode, no re-encode).
    return jsonTextResponse(listJson({ kind: resource.listKind, apiVersion: groupVersion(resource), metadata: page.listMeta }, page.entries));
  }
  return jsonResponse(renderList(out, peers, resource, ctx.query, page.entries.map(decode), page.listMeta));
}
