/**
 * Reflector: list once, then watch from the list's resourceVersion, as client-go's reflector does.
 * A watch the server ends (its timeout, every few minutes) is resumed from the last
 * resourceVersion seen; a dropped connection is reported as lost and retried with backoff from
 * the same resourceVersion; 410 Gone (history compacted) lists again. Between reconnects, every
 * change arrives as a watch event.
 *
 * A reflector made with `pollMs` lists every pollMs instead of watching. The control plane serves
 * HTTP/1.1, where a browser opens at most six connections to one origin and each open watch holds
 * one: with a watch for every collection the page shows (seven), the seventh watch and every
 * write (preview, start, pause) waited for a connection forever. So the page watches four and
 * polls the small or slow ones (see live.ts), keeping two connections for requests.
 */
import { ApiError, toApiError, type ApiClient, type KubeObject } from './api.js';

/** ReflectorState is what the page shows about one resource's connection. */
export type ReflectorState =
  | { kind: 'loading' }
  | { kind: 'live' }
  | { kind: 'lost'; since: number; attempt: number; error: string }
  | { kind: 'unavailable'; error: ApiError }
  | { kind: 'refused'; error: ApiError };

/** objectKey names an object within its resource. */
export const objectKey = (obj: KubeObject): string => `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;

/** Reflector keeps a live copy of one resource's objects. */
export class Reflector {
  readonly items = new Map<string, KubeObject>();
  state: ReflectorState = { kind: 'loading' };
  resourceVersion = '';
  /** When the connection last came back after being lost (the page says so). */
  reconnectedAt: number | undefined;
  private stopped = false;
  private abort = new AbortController();

  constructor(
    private readonly client: ApiClient,
    /** The collection path, e.g. `/api/v1/nodes`. */
    readonly path: string,
    private readonly onChange: () => void,
    /** When set, the group version's discovery must list this resource, else the state is `unavailable` (404) without a failing request. */
    private readonly discover?: { groupVersion: string; resource: string },
    /** When set, list every pollMs milliseconds instead of watching (see the file comment). */
    private readonly pollMs?: number,
  ) {}

  /** start lists and watches until stop. */
  start(): this {
    void this.run();
    return this;
  }

  /** stop ends the watch. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  /** list returns the objects, sorted by key. */
  list(): KubeObject[] {
    return [...this.items.values()].sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
  }

  private setState(state: ReflectorState): void {
    this.state = state;
    this.onChange();
  }

  private async relist(): Promise<void> {
    const list = await this.client.request<{ items: KubeObject[]; metadata: { resourceVersion: string } }>(this.path, { signal: this.abort.signal });
    this.items.clear();
    for (const item of list.items) this.items.set(objectKey(item), item);
    this.resourceVersion = list.metadata.resourceVersion;
  }

  /** served asks discovery whether the server serves the resource (see `discover`). */
  private async served(): Promise<boolean> {
    if (!this.discover) return true;
    const list = await this.client.request<{ resources?: { name: string }[] }>(`/apis/${this.discover.groupVersion}`, { signal: this.abort.signal });
    return (list.resources ?? []).some((r) => r.name === this.discover!.resource);
  }

  private async run(): Promise<void> {
    let attempt = 0;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          if (!(await this.served())) {
            return this.setState({ kind: 'unavailable', error: new ApiError(404, `the server does not serve ${this.discover!.resource}`, 'NotFound') });
          }
          await this.relist();
          needList = false;
        }
        if (this.state.kind === 'lost') this.reconnectedAt = Date.now();
        if (this.state.kind !== 'live') this.setState({ kind: 'live' });
        attempt = 0;
        if (this.pollMs !== undefined) {
          this.onChange();
          await new Promise((r) => setTimeout(r, this.pollMs));
          if (!this.stopped) await this.relist();
          continue;
        }
        // Resolves when the server ends the watch; throws when the connection drops.
        needList = await this.watchOnce();
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof ApiError && err.status === 401) return this.setState({ kind: 'refused', error: err });
        if (err instanceof ApiError && (err.status === 404 || err.status === 403)) return this.setState({ kind: 'unavailable', error: err });
        if (err instanceof ApiError && err.status === 410) {
          needList = true;
          continue;
        }
        attempt++;
        const since = this.state.kind === 'lost' ? this.state.since : Date.now();
        this.setState({ kind: 'lost', since, attempt, error: err instanceof Error ? err.message : String(err) });
        await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** (attempt - 1), 10_000)));
      }
    }
  }

  /** watchOnce follows one watch response to its end; true when the objects must be listed again (410). */
  private async watchOnce(): Promise<boolean> {
    const sep = this.path.includes('?') ? '&' : '?';
    const url = `${this.path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(this.resourceVersion)}`;
    const response = await fetch(url, { headers: this.client.headers(), signal: this.abort.signal });
    if (!response.ok) throw await toApiError(response);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buffered += value;
      let newline: number;
      let changed = false;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const event = JSON.parse(line) as { type: string; object: any };
        if (event.type === 'ERROR') {
          if (event.object?.code === 410) return true;
          throw new ApiError(event.object?.code ?? 500, event.object?.message ?? 'watch error', event.object?.reason);
        }
        const obj = event.object as KubeObject;
        if (obj?.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
        if (event.type === 'ADDED' || event.type === 'MODIFIED') this.items.set(objectKey(obj), obj);
        else if (event.type === 'DELETED') this.items.delete(objectKey(obj));
        else continue; // BOOKMARK: only the resourceVersion moves
        changed = true;
      }
      if (changed) this.onChange();
    }
  }
}
