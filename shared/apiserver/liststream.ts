/**
 * Streaming an unpaged list (issue 15, item 7): a list without `limit` used to be read whole from
 * the store, rendered as one string and only then written — 50 concurrent lists of 15 MB took
 * the process to 2 GB. Here the store is read in pages of STREAM_PAGE at the list's revision
 * (one consistent snapshot, as the unpaged list promised), and the JSON goes out page by page as
 * the client reads it: a slow reader holds one page, not the collection.
 *
 * A list that fits in its first page is answered whole, as before (one write with a length).
 * Only plain JSON streams; Table and protobuf renderings stay whole (and the in-flight filter
 * bounds how many unpaged lists run at once).
 */
import { groupVersion } from '../api/resources.js';
import { isEmptyFilter, matchesFilter, type ObjectFilter } from '../api/selectors.js';
import type { KeyValue, ListResult } from '../store/store.js';
import type { HandlerContext } from './context.js';
import { objectJson } from './objectjson.js';
import { jsonTextResponse } from './respond.js';
import { decode } from './storage.js';

/** STREAM_PAGE is how many stored objects one read of a streamed list takes. */
export const STREAM_PAGE = 500;

/** ReadPage reads the page after key `startAfter` (undefined: the first) of the list. */
export type ReadPage = (startAfter: string | undefined) => Promise<ListResult>;

function keep(kind: string, filter: ObjectFilter, items: readonly KeyValue[]): KeyValue[] {
  return isEmptyFilter(filter) ? [...items] : items.filter((kv) => matchesFilter(kind, filter, decode(kv)));
}

/**
 * streamedListResponse answers an unpaged list of `ctx`'s resource: `readPage` reads the store
 * page by page (the first read fixes the revision), `filter` keeps what the selectors match.
 */
export async function streamedListResponse(ctx: HandlerContext, filter: ObjectFilter, readPage: ReadPage): Promise<Response> {
  const { resource } = ctx.info;
  const first = await readPage(undefined);
  const head = JSON.stringify({ kind: resource.listKind, apiVersion: groupVersion(resource), metadata: { resourceVersion: String(first.revision) } });
  const open = `${head.slice(0, -1)},"items":[`;
  const items = keep(resource.kind, filter, first.items);
  if (!first.more) return jsonTextResponse(`${open}${items.map(objectJson).join(',')}]}`);
  const encoder = new TextEncoder();
  let next: string | undefined = first.items[first.items.length - 1]!.key;
  let written = items.length;
  let pending = `${open}${items.map(objectJson).join(',')}`;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending) {
        controller.enqueue(encoder.encode(pending));
        pending = '';
        return;
      }
      if (next === undefined) {
        controller.enqueue(encoder.encode(']}'));
        controller.close();
        return;
      }
      // A pull must enqueue something (or close): a page the selectors empty reads on.
      for (;;) {
        const page = await readPage(next);
        next = page.more && page.items.length > 0 ? page.items[page.items.length - 1]!.key : undefined;
        const kept = keep(resource.kind, filter, page.items);
        if (kept.length > 0) {
          controller.enqueue(encoder.encode(`${written > 0 ? ',' : ''}${kept.map(objectJson).join(',')}`));
          written += kept.length;
          return;
        }
        if (next === undefined) {
          controller.enqueue(encoder.encode(']}'));
          controller.close();
          return;
        }
      }
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-cache, private' } });
}
