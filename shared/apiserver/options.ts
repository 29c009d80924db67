/**
 * Query options of writes, checked as kube-apiserver checks CreateOptions, UpdateOptions and
 * PatchOptions (k8s.io/apimachinery/pkg/apis/meta/v1/validation): `fieldManager` at most 128
 * bytes of printable characters (422 Invalid), and boolean parameters (`force`) that Go's
 * strconv.ParseBool accepts (400 otherwise).
 */
import { badRequest, invalid, type StatusCause } from '../api/status.js';
import type { Verb } from './context.js';

/** FIELD_MANAGER_MAX_LENGTH is upstream's FieldManagerMaxLength. */
export const FIELD_MANAGER_MAX_LENGTH = 128;

const OPTIONS_KIND: Partial<Record<Verb, string>> = { create: 'CreateOptions', update: 'UpdateOptions', patch: 'PatchOptions' };

/** goQuote renders a string as Go's %q does for the ASCII controls (`"a\x01b"`), which JSON writes `\u0001`. */
export function goQuote(value: string): string {
  return JSON.stringify(value).replace(/\\u00([0-9a-f]{2})/g, (_, hex: string) => {
    const code = parseInt(hex, 16);
    return code === 0x7f ? '\\x7f' : ({ 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' } as Record<number, string>)[code] ?? `\\x${hex}`;
  });
}

/** isPrintable is Go's unicode.IsPrint for the characters that matter here: no controls, no separators other than ' '. */
function isPrintable(ch: string): boolean {
  return !/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|[\p{Zs}]/u.test(ch) || ch === ' ';
}

/** fieldManagerCauses lists what is wrong with a `fieldManager` value (empty: valid). */
export function fieldManagerCauses(manager: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (Buffer.byteLength(manager) > FIELD_MANAGER_MAX_LENGTH) {
    causes.push({ reason: 'FieldValueTooLong', field: 'fieldManager', message: `Too long: may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes` });
  }
  let position = 0;
  for (const ch of manager) {
    if (!isPrintable(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      causes.push({ reason: 'FieldValueInvalid', field: 'fieldManager', message: `Invalid value: ${goQuote(manager)}: invalid character U+${code} (at position ${position})` });
    }
    position += Buffer.byteLength(ch);
  }
  return causes;
}

/** assertFieldManager throws 422 Invalid (`PatchOptions.meta.k8s.io "" is invalid: fieldManager: ...`) for a bad manager. */
export function assertFieldManager(manager: string, verb: Verb): void {
  const causes = fieldManagerCauses(manager);
  if (causes.length > 0) throw invalid('meta.k8s.io', OPTIONS_KIND[verb] ?? 'CreateOptions', '', causes);
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** parseBoolParam reads a boolean query parameter as Go's strconv.ParseBool; absent is `fallback`, anything else 400. */
export function parseBoolParam(query: URLSearchParams, name: string, fallback = false): boolean {
  const text = query.get(name);
  if (text === null) return fallback;
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw badRequest(`${name}: Invalid value: ${goQuote(text)}: strconv.ParseBool: parsing ${goQuote(text)}: invalid syntax`);
}
