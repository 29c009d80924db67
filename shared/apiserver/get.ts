/** get: one object (or its status/scale subresource), as JSON or a Table. */
import type { HandlerContext } from './context.js';
import type { Peers } from './peers.js';
import { decode, loadObject, parseResourceVersion } from './storage.js';
import { jsonResponse } from './respond.js';
import { negotiateOutput, renderOne } from './output.js';
import { getScale } from './scale.js';
import { notFound } from '../api/status.js';

/** handleGet answers GET on a named object. `resourceVersion` other than "0"/unset reads at least that revision. */
export async function handleGet(ctx: HandlerContext, peers: Peers): Promise<Response> {
  const { info } = ctx;
  if (info.subresource === 'scale') return getScale(ctx);
  if (info.subresource === 'log') throw notFound(info.resource.group, info.resource.plural, `${info.name}/log`);
  const rv = ctx.query.get('resourceVersion');
  if (rv) parseResourceVersion(rv);
  const out = negotiateOutput(ctx.request);
  const obj = decode(await loadObject(ctx));
  return jsonResponse(renderOne(out, peers, info.resource, ctx.query, obj));
}
