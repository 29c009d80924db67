/**
 * ApiClient: the one typed client everything that talks to the Kubernetes API uses. It speaks
 * HTTP through a fetch-style function: in-process that is the API handler itself (with the
 * controllers' privileged token), remotely (the node agent) it is `fetch` with the cluster CA.
 * Failures come back as ApiError rebuilt from the server's Status body, so callers classify them
 * by `code`/`reason` exactly as the server decided.
 */
import { findResourceByKind, groupVersion, type ResourceType } from '../api/resources.js';
import { ApiError, type StatusDetails, type StatusReason } from '../api/status.js';
import { isRecord, type KubeObject } from '../api/objects.js';

/** FetchLike is `fetch`, or the API handler itself (`(Request) => Promise<Response>`). */
export type FetchLike = (request: Request) => Promise<Response>;

/** ApiClientOptions say where the server is and who is calling. */
export interface ApiClientOptions {
  /** The server's base URL (in-process any URL works, e.g. `http://in-process`). */
  baseUrl: string;
  /** The bearer token sent with every request. */
  token?: string;
  /** Sent as User-Agent; the API server derives the default field manager from it. */
  userAgent?: string;
}

/** ObjectName names one object (namespace absent for cluster-scoped kinds). */
export interface ObjectName {
  namespace?: string;
  name: string;
}

/** ListOptions select objects (as the API's list query parameters). */
export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

/** ObjectList is one page of a list. */
export interface ObjectList {
  items: KubeObject[];
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
}

/** WriteOptions apply to create, update and patch. */
export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
  /** Write a subresource (`status`, `finalize`, `scale`). */
  subresource?: string;
}

/** PatchType is the patch format; `apply` is server-side apply (needs `fieldManager`). */
export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** DeleteOptions are Kubernetes' DeleteOptions, as far as the API server honours them. */
export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** WatchOptions tune a watch. */
export interface WatchOptions extends Omit<ListOptions, 'limit' | 'continue'> {
  signal?: AbortSignal;
  allowWatchBookmarks?: boolean;
}

/** WatchEvent is one event of a watch stream. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

/** resourceFor returns the served resource of `apiVersion`/`kind`; an unknown kind is a 404 ApiError. */
export function resourceFor(apiVersion: string, kind: string): ResourceType {
  const r = findResourceByKind(apiVersion, kind);
  if (!r) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${kind}.${apiVersion})`);
  return r;
}

/** apiErrorFromResponse rebuilds the ApiError a failed response carries (its Status body, or the HTTP status alone). */
export async function apiErrorFromResponse(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const status: unknown = JSON.parse(text);
    if (isRecord(status) && status.kind === 'Status') {
      return new ApiError(Number(status.code ?? response.status), (status.reason ?? 'InternalError') as StatusReason,
        String(status.message ?? ''), status.details as StatusDetails | undefined);
    }
  } catch {
    // Not JSON: fall through to the HTTP status.
  }
  return new ApiError(response.status, response.status === 404 ? 'NotFound' : 'InternalError', text || `HTTP ${response.status}`);
}

/** ApiClient is a small typed client over a fetch-style function. Every method throws ApiError on failure. */
export class ApiClient {
  constructor(
    private readonly fetcher: FetchLike,
    private readonly options: ApiClientOptions,
  ) {}

  /** path renders the URL path of a resource (collection when `name` is absent). */
  path(r: ResourceType, namespace?: string, name?: string, subresource?: string): string {
    let p = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    if (r.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${r.plural}`;
    if (name !== undefined) p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  private async send(method: string, path: string, query: Record<string, string | undefined>, body?: string, contentType?: string, signal?: AbortSignal): Promise<Response> {
    const url = new URL(path, this.options.baseUrl);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
    if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
    const response = await this.fetcher(new Request(url, { method, headers, body, signal }));
    if (!response.ok) throw await apiErrorFromResponse(response);
    return response;
  }

  private async sendJson(method: string, path: string, query: Record<string, string | undefined>, body?: unknown, contentType?: string): Promise<KubeObject> {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const response = await this.send(method, path, query, text, contentType);
    return (await response.json()) as KubeObject;
  }

  /** putPath PUTs a JSON body to a path that is no served resource (a node's metrics report) and returns the answer. */
  putPath(path: string, body: unknown): Promise<KubeObject> {
    return this.sendJson('PUT', path, {}, body);
  }

  /** get reads one object; 404 ApiError when absent. */
  get(r: ResourceType, ref: ObjectName): Promise<KubeObject> {
    return this.sendJson('GET', this.path(r, ref.namespace, ref.name), {});
  }

  /** getOrUndefined reads one object, or undefined when it does not exist. */
  async getOrUndefined(r: ResourceType, ref: ObjectName): Promise<KubeObject | undefined> {
    try {
      return await this.get(r, ref);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  /** list reads one page (namespace absent: all namespaces). */
  async list(r: ResourceType, opts: ListOptions = {}): Promise<ObjectList> {
    const body = await this.sendJson('GET', this.path(r, opts.namespace), {
      labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit?.toString(),
      continue: opts.continue, resourceVersion: opts.resourceVersion,
    });
    // List items may omit apiVersion and kind (Kubernetes' typed lists do); fill them in.
    const items = ((body.items ?? []) as KubeObject[]).map((item) => ({ apiVersion: groupVersion(r), kind: r.kind, ...item }));
    return { items, metadata: (body.metadata ?? {}) as ObjectList['metadata'] };
  }

  /** listAll reads every page of a list (pages of `limit`, default 500). */
  async listAll(r: ResourceType, opts: Omit<ListOptions, 'continue'> = {}): Promise<KubeObject[]> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    do {
      const page = await this.list(r, { limit: 500, ...opts, continue: cont });
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
    } while (cont);
    return items;
  }

  /**
   * create creates `obj` (namespace from the object's metadata unless given). With
   * `opts.subresource` it POSTs to that subresource of the object named by `obj`'s metadata
   * (`binding`, `eviction`).
   */
  create(r: ResourceType, obj: KubeObject, opts: WriteOptions & { namespace?: string } = {}): Promise<KubeObject> {
    const namespace = opts.namespace ?? metaOf(obj).namespace;
    const path = opts.subresource ? this.path(r, namespace, metaOf(obj).name, opts.subresource) : this.path(r, namespace);
    return this.sendJson('POST', path, writeQuery(opts), obj);
  }

  /** update replaces `obj` (or a subresource of it); a stale resourceVersion is 409 Conflict. */
  update(r: ResourceType, obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const meta = metaOf(obj);
    return this.sendJson('PUT', this.path(r, meta.namespace, meta.name, opts.subresource), writeQuery(opts), obj);
  }

  /** updateStatus replaces `obj`'s status through the `status` subresource. */
  updateStatus(r: ResourceType, obj: KubeObject, opts: Omit<WriteOptions, 'subresource'> = {}): Promise<KubeObject> {
    return this.update(r, obj, { ...opts, subresource: 'status' });
  }

  /** patch applies `patch` of `type` to the named object (or subresource). */
  patch(r: ResourceType, ref: ObjectName, patch: unknown, type: PatchType, opts: WriteOptions & { force?: boolean } = {}): Promise<KubeObject> {
    const query = { ...writeQuery(opts), force: opts.force ? 'true' : undefined };
    return this.sendJson('PATCH', this.path(r, ref.namespace, ref.name, opts.subresource), query, patch, PATCH_CONTENT_TYPES[type]);
  }

  /** delete deletes the named object; answers what the server answered (the object or a Status). */
  delete(r: ResourceType, ref: ObjectName, opts: DeleteOptions = {}): Promise<KubeObject> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: opts.propagationPolicy,
      gracePeriodSeconds: opts.gracePeriodSeconds, preconditions: opts.preconditions };
    return this.sendJson('DELETE', this.path(r, ref.namespace, ref.name), { dryRun: opts.dryRun ? 'All' : undefined }, body);
  }

  /** watch yields the events of a watch until the server ends it or `signal` aborts. */
  async *watch(r: ResourceType, opts: WatchOptions = {}): AsyncGenerator<WatchEvent> {
    const response = await this.send('GET', this.path(r, opts.namespace), {
      watch: 'true', labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion, allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
    }, undefined, undefined, opts.signal);
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffered = '';
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) yield JSON.parse(line) as WatchEvent;
        }
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
}

function metaOf(obj: KubeObject): { namespace?: string; name: string } {
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  return { namespace: meta.namespace as string | undefined, name: String(meta.name ?? '') };
}

function writeQuery(opts: WriteOptions): Record<string, string | undefined> {
  return { fieldManager: opts.fieldManager, dryRun: opts.dryRun ? 'All' : undefined };
}
