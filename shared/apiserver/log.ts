/**
 * pods/log: a container's output as `text/plain`, read from the LogSink (where agents ship it),
 * not from the node. Query: `container`, `previous`, `tailLines`, `sinceSeconds` | `sinceTime`,
 * `timestamps`, `limitBytes`, `follow`. A followed log streams (a ReadableStream body, as watch
 * does) until the container instance ends, the pod goes, `limitBytes` is spent or the client
 * leaves. Which instance is read is decided in shared/logs/instance.ts.
 */
import type { LogLine, LogSink, LogStreamId, ReadLogOptions } from '../logs/logsink.js';
import { chooseContainer, instanceEnded, logInstance } from '../logs/instance.js';
import { badRequest, invalid, serviceUnavailable, type StatusCause } from '../api/status.js';
import type { HandlerContext } from './context.js';
import { decode, keyOf, loadObject } from './storage.js';

/** POD_POLL_MS is how often a followed log re-reads its pod to notice the container has ended. */
export const POD_POLL_MS = 1_000;
/** DRAIN_MS is how long a follow keeps reading after its container ended: its last lines may still be landing. */
export const DRAIN_MS = 1_500;

/** PodLogRequest is the pods/log query, parsed. */
export interface PodLogRequest {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceMs?: number;
  limitBytes?: number;
}

const truthy = (v: string | null) => v === 'true' || v === '1';

function integerParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  if (!/^-?\d+$/.test(text)) throw badRequest(`invalid ${name}: "${text}" is not an integer`);
  return Number(text);
}

/** parsePodLogRequest reads and validates the query as PodLogOptions validation does (422 Invalid on bad values). */
export function parsePodLogRequest(query: URLSearchParams, podName: string, now: Date): PodLogRequest {
  const tailLines = integerParam(query, 'tailLines');
  const sinceSeconds = integerParam(query, 'sinceSeconds');
  const limitBytes = integerParam(query, 'limitBytes');
  const sinceTime = query.get('sinceTime') || undefined;
  const causes: StatusCause[] = [];
  if (tailLines !== undefined && tailLines < 0) causes.push({ reason: 'FieldValueInvalid', field: 'tailLines', message: `Invalid value: ${tailLines}: must be greater than or equal to 0` });
  if (limitBytes !== undefined && limitBytes < 1) causes.push({ reason: 'FieldValueInvalid', field: 'limitBytes', message: `Invalid value: ${limitBytes}: must be greater than 0` });
  if (sinceSeconds !== undefined && sinceSeconds < 1) causes.push({ reason: 'FieldValueInvalid', field: 'sinceSeconds', message: `Invalid value: ${sinceSeconds}: must be greater than 0` });
  if (sinceSeconds !== undefined && sinceTime !== undefined) causes.push({ reason: 'FieldValueForbidden', field: '', message: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
  if (causes.length > 0) throw invalid('', 'PodLogOptions', podName, causes);
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = now.getTime() - sinceSeconds * 1000;
  if (sinceTime !== undefined) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs) || !/^\d{4}-\d\d-\d\dT/.test(sinceTime)) throw badRequest(`invalid sinceTime: "${sinceTime}" is not an RFC 3339 time`);
  }
  return {
    container: query.get('container') || undefined,
    follow: truthy(query.get('follow')),
    previous: truthy(query.get('previous')),
    timestamps: truthy(query.get('timestamps')),
    tailLines, sinceMs, limitBytes,
  };
}

/** renderLine is one line as the kubelet writes it: `<time> <text>` with timestamps, else the text. */
export function renderLine(line: LogLine, timestamps: boolean): string {
  return timestamps ? `${line.time} ${line.text}\n` : `${line.text}\n`;
}

/** OutputLimit cuts the rendered output at `limitBytes` (timestamps count), as the kubelet's limit writer does. */
class OutputLimit {
  private left: number;
  constructor(limitBytes: number | undefined) {
    this.left = limitBytes ?? Infinity;
  }
  get spent(): boolean {
    return this.left <= 0;
  }
  take(text: string): Uint8Array {
    const bytes = new TextEncoder().encode(text);
    const out = bytes.length <= this.left ? bytes : bytes.subarray(0, this.left);
    this.left -= out.length;
    return out;
  }
}

const TEXT_HEADERS = { 'content-type': 'text/plain', 'cache-control': 'no-cache, private' };

/** handlePodLog answers GET pods/{name}/log. Without a LogSink configured it answers 503. */
export async function handlePodLog(ctx: HandlerContext, sink: LogSink | undefined): Promise<Response> {
  const podName = ctx.info.name ?? '';
  const req = parsePodLogRequest(ctx.query, podName, ctx.now());
  const pod = decode(await loadObject(ctx));
  const container = chooseContainer(pod, podName, req.container);
  const instance = logInstance(pod, podName, container, req.previous);
  if (!sink) throw serviceUnavailable('container logs are not configured on this server (no log storage)');
  const meta = (pod.metadata ?? {}) as Record<string, unknown>;
  const uid = String(meta.uid ?? '');
  const id: LogStreamId = { namespace: ctx.info.namespace ?? 'default', pod: podName, podUid: uid, container, restart: instance.restart };
  const readOptions: ReadLogOptions = { tailLines: req.tailLines, sinceMs: req.sinceMs, limitBytes: req.limitBytes };
  const limit = new OutputLimit(req.limitBytes);
  if (!req.follow || !instance.live) {
    const lines = await sink.read(id, readOptions);
    const chunks = lines.map((l) => limit.take(renderLine(l, req.timestamps)));
    return new Response(new Blob(chunks as BlobPart[]), { status: 200, headers: TEXT_HEADERS });
  }
  return new Response(followBody(ctx, sink, id, readOptions, req.timestamps, limit, instance), { status: 200, headers: TEXT_HEADERS });
}

/** followBody streams a followed log; it watches the pod so it can end when the instance does. */
function followBody(
  ctx: HandlerContext, sink: LogSink, id: LogStreamId, readOptions: ReadLogOptions, timestamps: boolean,
  limit: OutputLimit, instance: ReturnType<typeof logInstance>,
): ReadableStream<Uint8Array> {
  const abort = new AbortController();
  const onClientGone = () => abort.abort();
  ctx.request.signal?.addEventListener('abort', onClientGone);
  const podKey = keyOf(ctx.info.resource, ctx.info.namespace, id.pod);
  let drainTimer: NodeJS.Timeout | undefined;
  const podTimer = setInterval(() => {
    ctx.store.get(podKey).then((kv) => {
      if (!drainTimer && instanceEnded(kv ? decode(kv) : undefined, id.podUid, instance)) drainTimer = setTimeout(() => abort.abort(), DRAIN_MS);
    }, () => undefined);
  }, POD_POLL_MS);
  const finish = () => {
    abort.abort();
    clearInterval(podTimer);
    clearTimeout(drainTimer);
    ctx.request.signal?.removeEventListener('abort', onClientGone);
  };
  const lines = sink.follow(id, { ...readOptions, signal: abort.signal })[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = limit.spent ? undefined : await lines.next().catch(() => undefined);
      if (!next || next.done) {
        finish();
        controller.close();
        return;
      }
      controller.enqueue(limit.take(renderLine(next.value, timestamps)));
    },
    async cancel() {
      finish();
      await lines.return?.(undefined);
    },
  });
}
