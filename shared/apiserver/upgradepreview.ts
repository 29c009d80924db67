/**
 * create of an UpgradePreview (`POST /apis/coracle.io/v1/upgradepreviews`): like TokenReview, it
 * is never stored; the answer (201) is the posted object with its spec defaulted and
 * `status.plan`, the preview of an UpgradeRun with that spec (shared/upgrade/preview.ts),
 * problems included. A malformed spec is 422, as the run's would be.
 */
import { rfc3339Now } from '../api/objects.js';
import { invalid } from '../api/status.js';
import { previewFrom, RUNNING_BUILD_ONLY, storeLister } from '../upgrade/admission.js';
import { defaultUpgradeRun, runSpecOf, validateUpgradeRun } from '../upgrade/run.js';
import type { HandlerContext } from './context.js';
import { readBody } from './body.js';
import { jsonResponse } from './respond.js';
import { asObject, assertApiVersionKind } from './write.js';

/** handleUpgradePreview answers the create of an UpgradePreview (see the file comment). */
export async function handleUpgradePreview(ctx: HandlerContext): Promise<Response> {
  const obj = asObject((await readBody(ctx.request)).value);
  assertApiVersionKind(obj, 'coracle.io/v1', 'UpgradePreview');
  obj.spec ??= {};
  defaultUpgradeRun(obj);
  const causes = validateUpgradeRun(obj);
  if (causes.length > 0) throw invalid('coracle.io', 'UpgradePreview', '', causes);
  const plan = await previewFrom(storeLister(ctx.store), runSpecOf(obj), ctx.releases ?? RUNNING_BUILD_ONLY);
  const metadata = { ...(typeof obj.metadata === 'object' && obj.metadata ? obj.metadata : {}), creationTimestamp: rfc3339Now(ctx.now()) };
  return jsonResponse({ apiVersion: 'coracle.io/v1', kind: 'UpgradePreview', metadata, spec: obj.spec, status: { plan } }, 201);
}
