/**
 * What every printer shares: Kubernetes' human duration, label and selector rendering, column
 * definitions with descriptions taken from the OpenAPI definitions (as Kubernetes takes them from
 * its types' SwaggerDoc), and the Printer shape.
 */
import { DEFINITIONS } from '../openapi/definitions.js';

/**
 * Loose is an object read for printing. Stored objects are only loosely typed; printers read them
 * with optional chaining and treat anything missing as Kubernetes treats a zero value.
 */
export type Loose = any;

/** ColumnDefinition is a meta.k8s.io/v1 TableColumnDefinition. */
export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

/** PrintContext is what a printer may consult besides the object: the request time. */
export interface PrintContext {
  /** Milliseconds since the epoch at which ages are computed. */
  now: number;
}

/** RowCondition is a TableRowCondition (pods mark Completed rows with one). */
export interface RowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/**
 * Printer prints one kind: `columns` lists every column (priority 1 = only with -o wide) and
 * `cells` returns one cell per column, in the same order.
 */
export interface Printer {
  columns: readonly ColumnDefinition[];
  cells(obj: Loose, ctx: PrintContext): unknown[];
  conditions?(obj: Loose): RowCondition[] | undefined;
}

/** doc reads a field's description from a definition, the way Kubernetes' printers use SwaggerDoc. */
export function doc(definition: string, field?: string): string {
  const schema = DEFINITIONS.get(definition.includes('.') ? definition : `io.k8s.api.core.v1.${definition}`);
  return (field === undefined ? schema?.description : schema?.properties?.[field]?.description) ?? '';
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** column builds a column definition; `description` is literal text or a [definition, field] pair. */
export function column(
  name: string, type: ColumnDefinition['type'], description: string | readonly [string, string],
  extra: { priority?: number; format?: string } = {},
): ColumnDefinition {
  const text = typeof description === 'string' ? description : doc(description[0], description[1]);
  return { name, type, format: extra.format ?? '', description: text, priority: extra.priority ?? 0 };
}

/** NAME_COLUMN is the Name column every printer starts with. */
export const NAME_COLUMN = column('Name', 'string', [META, 'name'], { format: 'name' });
/** AGE_COLUMN is the Age column (the object's creationTimestamp, rendered as a duration). */
export const AGE_COLUMN = column('Age', 'string', [META, 'creationTimestamp']);

/** humanDuration renders a duration as Kubernetes does (util/duration.HumanDuration): 5s, 3m20s, 2d3h. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  const years = Math.trunc(hours / 24 / 365);
  if (hours < 24 * 365 * 8) {
    const days = Math.trunc(hours / 24) % 365;
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${years}y`;
}

/** since renders the time elapsed from an RFC 3339 timestamp, `<unknown>` when there is none. */
export function since(timestamp: unknown, ctx: PrintContext): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return '<unknown>';
  return humanDuration(ctx.now - at);
}

/** age is the Age cell of an object. */
export function age(obj: Loose, ctx: PrintContext): string {
  return since(obj?.metadata?.creationTimestamp, ctx);
}

/** formatLabels renders a label map as `k=v,k2=v2` (sorted), `<none>` when empty. */
export function formatLabels(labels: unknown): string {
  const entries = Object.entries((labels ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/** formatSelector renders a LabelSelector as its selector string (`app=web,tier in (a,b)`), sorted by key. */
export function formatSelector(selector: Loose): string {
  if (!selector) return '';
  const requirements: [string, string][] = [];
  for (const [key, value] of Object.entries((selector.matchLabels ?? {}) as Record<string, string>)) requirements.push([key, `${key}=${value}`]);
  for (const expr of (selector.matchExpressions ?? []) as Loose[]) {
    const values = [...((expr.values ?? []) as string[])].sort().join(',');
    const text = expr.operator === 'In' ? `${expr.key} in (${values})`
      : expr.operator === 'NotIn' ? `${expr.key} notin (${values})`
        : expr.operator === 'Exists' ? String(expr.key)
          : expr.operator === 'DoesNotExist' ? `!${expr.key}` : `${expr.key} ${expr.operator} (${values})`;
    requirements.push([String(expr.key), text]);
  }
  return requirements.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, text]) => text).join(',');
}

/** containersAndImages renders the Containers and Images cells of a pod template. */
export function containersAndImages(podSpec: Loose): [string, string] {
  const containers = (podSpec?.containers ?? []) as Loose[];
  return [containers.map((c) => c.name ?? '').join(','), containers.map((c) => c.image ?? '').join(',')];
}

/** intOrString renders an IntOrString as Kubernetes' String() does. */
export function intOrString(value: unknown): string {
  return typeof value === 'number' ? String(Math.trunc(value)) : String(value ?? '');
}

/** int reads an integer field, 0 when absent (Kubernetes' zero value). */
export function int(value: unknown): number {
  return typeof value === 'number' ? Math.trunc(value) : 0;
}
