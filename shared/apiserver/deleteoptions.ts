/**
 * DeleteOptions from a body or the query: grace period, propagation policy (and the legacy
 * orphanDependents), preconditions, dryRun.
 */
import { ApiError } from '../api/status.js';
import { isRecord } from '../api/objects.js';
import { mediaType, parseJson, parseYaml, readText, assertSafeKeys } from './body.js';
import { isDryRun } from './write.js';

/** PropagationPolicy is how dependents are handled (the garbage collector acts on it). */
export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

/** DeleteOptions are the parsed options of one delete. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: PropagationPolicy;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun: boolean;
}

function invalidOptions(field: string, message: string): ApiError {
  return new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: ${field}: ${message}`, {
    group: 'meta.k8s.io', kind: 'DeleteOptions', causes: [{ reason: 'FieldValueInvalid', message, field }],
  });
}

/** parseDeleteOptions merges the body's DeleteOptions (if any) over the query's. */
export async function parseDeleteOptions(request: Request, query: URLSearchParams): Promise<DeleteOptions> {
  const text = await readText(request);
  let body: Record<string, unknown> = {};
  if (text.trim() !== '') {
    const parsed = mediaType(request).includes('yaml') ? parseYaml(text) : parseJson(text);
    assertSafeKeys(parsed.value);
    if (isRecord(parsed.value)) body = parsed.value;
  }
  const graceText = body.gracePeriodSeconds ?? query.get('gracePeriodSeconds') ?? undefined;
  const grace = graceText === undefined || graceText === null ? undefined : Number(graceText);
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) throw invalidOptions('gracePeriodSeconds', `Invalid value: ${String(graceText)}: must be >= 0`);
  const orphanText = body.orphanDependents ?? query.get('orphanDependents') ?? undefined;
  let policy = (body.propagationPolicy ?? query.get('propagationPolicy') ?? undefined) as string | undefined;
  if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
    throw invalidOptions('propagationPolicy', `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  if (orphanText !== undefined && policy !== undefined) throw invalidOptions('propagationPolicy', 'Invalid value: "' + policy + '": orphanDependents and deletionPropagation cannot be both set');
  if (orphanText !== undefined) policy = String(orphanText) === 'true' ? 'Orphan' : 'Background';
  const pre = isRecord(body.preconditions) ? body.preconditions : undefined;
  const dryRunBody = Array.isArray(body.dryRun) ? body.dryRun.map(String) : [];
  const merged = new URLSearchParams(query);
  for (const v of dryRunBody) merged.append('dryRun', v);
  return {
    gracePeriodSeconds: grace,
    propagationPolicy: policy as PropagationPolicy | undefined,
    preconditions: pre ? { uid: pre.uid as string | undefined, resourceVersion: pre.resourceVersion as string | undefined } : undefined,
    dryRun: isDryRun(merged),
  };
}
