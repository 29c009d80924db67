/**
 * Label and field selectors, with Kubernetes' syntax and semantics (k8s.io/apimachinery
 * pkg/labels and pkg/fields): parse once into a matcher, then test objects.
 */
import { badRequest } from './status.js';
import { isRecord, readMetadata, type KubeObject } from './objects.js';

/** LabelRequirement is one clause of a label selector. */
export interface LabelRequirement {
  key: string;
  operator: 'exists' | 'notexists' | 'in' | 'notin' | 'gt' | 'lt';
  values: string[];
}

/** LabelSelector is a parsed label selector: every requirement must hold (an empty one matches everything). */
export type LabelSelector = readonly LabelRequirement[];

function parseValues(raw: string, whole: string): string[] {
  const m = /^\((.*)\)$/.exec(raw.trim());
  if (!m) throw badRequest(`unable to parse requirement: found '${raw.trim()}', expected: '(' in selector "${whole}"`);
  return m[1].split(',').map((v) => v.trim());
}

/** splitTopLevel splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseRequirement(clause: string, whole: string): LabelRequirement {
  const setOp = /^(\S+)\s+(in|notin)\s*(\(.*\))$/.exec(clause);
  if (setOp) return { key: setOp[1], operator: setOp[2] as 'in' | 'notin', values: parseValues(setOp[3], whole) };
  const cmp = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(clause);
  if (cmp) {
    const [, key, op, value] = cmp;
    if (op === '>' || op === '<') {
      if (!/^-?\d+$/.test(value.trim())) throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer in selector "${whole}"`);
      return { key, operator: op === '>' ? 'gt' : 'lt', values: [value.trim()] };
    }
    return { key, operator: op === '!=' ? 'notin' : 'in', values: [value.trim()] };
  }
  const not = /^!\s*([^=!<>\s(),]+)$/.exec(clause);
  if (not) return { key: not[1], operator: 'notexists', values: [] };
  if (/^[^=!<>\s(),]+$/.test(clause)) return { key: clause, operator: 'exists', values: [] };
  throw badRequest(`unable to parse requirement: invalid label selector "${whole}"`);
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkValues(r: LabelRequirement, whole: string): LabelRequirement {
  for (const v of r.values) {
    if (v.length > 63 || !LABEL_VALUE.test(v)) throw badRequest(`unable to parse requirement: values[0][${r.key}]: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character in selector "${whole}"`);
  }
  return r;
}

/** parseLabelSelector parses `a=b,c!=d,e in (f,g),!h,i` (400 BadRequest when malformed). */
export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  if (!text) return [];
  return splitTopLevel(text).map((clause) => checkValues(parseRequirement(clause, text), text));
}

/** matchesLabels tells whether `labels` satisfy every requirement of `selector`. */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const value = has ? l[r.key] : undefined;
    switch (r.operator) {
      case 'exists': return has;
      case 'notexists': return !has;
      case 'in': return has && r.values.includes(value as string);
      case 'notin': return !has || !r.values.includes(value as string);
      case 'gt': return has && /^-?\d+$/.test(value as string) && Number(value) > Number(r.values[0]);
      case 'lt': return has && /^-?\d+$/.test(value as string) && Number(value) < Number(r.values[0]);
    }
  });
}

/**
 * fromLabelSelectorObject turns a metav1.LabelSelector (`matchLabels`, `matchExpressions`) into a
 * parsed selector. An absent selector yields `undefined` (callers decide: nothing or everything).
 */
export function fromLabelSelectorObject(obj: unknown): LabelSelector | undefined {
  if (!isRecord(obj)) return undefined;
  const reqs: LabelRequirement[] = [];
  if (isRecord(obj.matchLabels)) {
    for (const [key, value] of Object.entries(obj.matchLabels)) reqs.push({ key, operator: 'in', values: [String(value)] });
  }
  if (Array.isArray(obj.matchExpressions)) {
    for (const e of obj.matchExpressions) {
      if (!isRecord(e) || typeof e.key !== 'string') continue;
      const values = Array.isArray(e.values) ? e.values.map(String) : [];
      const op = String(e.operator);
      const operator = op === 'In' ? 'in' : op === 'NotIn' ? 'notin' : op === 'Exists' ? 'exists' : 'notexists';
      reqs.push({ key: e.key, operator, values });
    }
  }
  return reqs;
}

/** formatLabelSelector renders a selector in query syntax (`app=web,tier in (a,b)`), as Scale's status.selector shows it. */
export function formatLabelSelector(selector: LabelSelector): string {
  return selector
    .map((r) => {
      switch (r.operator) {
        case 'exists': return r.key;
        case 'notexists': return `!${r.key}`;
        case 'in': return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'notin': return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(',')})`;
        case 'gt': return `${r.key}>${r.values[0]}`;
        case 'lt': return `${r.key}<${r.values[0]}`;
      }
    })
    .join(',');
}

/** FieldRequirement is one `field=value` or `field!=value` clause. */
export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

/** FieldSelector is a parsed field selector: every clause must hold. */
export type FieldSelector = readonly FieldRequirement[];

type FieldGetter = (obj: KubeObject) => unknown;

const path = (...keys: string[]): FieldGetter => (obj) => {
  let cur: unknown = obj;
  for (const k of keys) cur = isRecord(cur) ? cur[k] : undefined;
  return cur;
};

const COMMON_FIELDS: Record<string, FieldGetter> = {
  'metadata.name': path('metadata', 'name'),
  'metadata.namespace': path('metadata', 'namespace'),
};

/** KIND_FIELDS are the per-kind field labels Kubernetes registers (pkg/registry/<kind>/strategy.go). */
const KIND_FIELDS: Record<string, Record<string, FieldGetter>> = {
  Pod: {
    'spec.nodeName': path('spec', 'nodeName'),
    'spec.restartPolicy': path('spec', 'restartPolicy'),
    'spec.schedulerName': path('spec', 'schedulerName'),
    'spec.serviceAccountName': path('spec', 'serviceAccountName'),
    'spec.hostNetwork': (o) => String(path('spec', 'hostNetwork')(o) === true),
    'status.phase': path('status', 'phase'),
    'status.podIP': path('status', 'podIP'),
    'status.nominatedNodeName': path('status', 'nominatedNodeName'),
  },
  Node: { 'spec.unschedulable': (o) => String(path('spec', 'unschedulable')(o) === true) },
  Namespace: { 'status.phase': path('status', 'phase') },
  Secret: { type: path('type') },
  ReplicaSet: { 'status.replicas': (o) => String(path('status', 'replicas')(o) ?? 0) },
  Event: {
    'involvedObject.kind': path('involvedObject', 'kind'),
    'involvedObject.namespace': path('involvedObject', 'namespace'),
    'involvedObject.name': path('involvedObject', 'name'),
    'involvedObject.uid': path('involvedObject', 'uid'),
    'involvedObject.apiVersion': path('involvedObject', 'apiVersion'),
    'involvedObject.resourceVersion': path('involvedObject', 'resourceVersion'),
    'involvedObject.fieldPath': path('involvedObject', 'fieldPath'),
    reason: path('reason'),
    reportingComponent: path('reportingComponent'),
    source: path('source', 'component'),
    type: path('type'),
  },
};

function fieldGetter(kind: string, field: string): FieldGetter | undefined {
  return COMMON_FIELDS[field] ?? KIND_FIELDS[kind]?.[field];
}

/** parseFieldSelector parses `a=b,c!=d` for `kind`; an unsupported field or bad syntax is 400 BadRequest. */
export function parseFieldSelector(kind: string, text: string | null | undefined): FieldSelector {
  if (!text) return [];
  return text.split(',').filter((c) => c.trim() !== '').map((clause) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(clause);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${clause}'`);
    const [, field, op, value] = m;
    if (!fieldGetter(kind, field)) throw badRequest(`field label not supported: ${field}`);
    return { field, value, negate: op === '!=' };
  });
}

/** matchesFields tells whether `obj` (of `kind`) satisfies every clause; a missing field reads as "". */
export function matchesFields(kind: string, selector: FieldSelector, obj: KubeObject): boolean {
  return selector.every((r) => {
    const raw = fieldGetter(kind, r.field)?.(obj);
    const actual = raw === undefined || raw === null ? '' : String(raw);
    return (actual === r.value) !== r.negate;
  });
}

/** ObjectFilter is a label and a field selector together, for list, watch and deletecollection. */
export interface ObjectFilter {
  labels: LabelSelector;
  fields: FieldSelector;
}

/** parseObjectFilter reads `labelSelector` and `fieldSelector` from query parameters. */
export function parseObjectFilter(kind: string, params: URLSearchParams): ObjectFilter {
  return { labels: parseLabelSelector(params.get('labelSelector')), fields: parseFieldSelector(kind, params.get('fieldSelector')) };
}

/** isEmptyFilter tells whether the filter selects everything. */
export function isEmptyFilter(filter: ObjectFilter): boolean {
  return filter.labels.length === 0 && filter.fields.length === 0;
}

/**
 * indexedSelection is the store's pre-filter (ListOptions.fieldEquals) for a filter: a Pod list
 * selecting `spec.nodeName=<node>`, the list every node agent repeats, answered from the store's
 * index instead of reading every pod of the cluster.
 */
export function indexedSelection(kind: string, filter: ObjectFilter): { field: 'spec.nodeName'; value: string } | undefined {
  if (kind !== 'Pod') return undefined;
  const node = filter.fields.find((f) => f.field === 'spec.nodeName' && !f.negate && f.value !== '');
  return node ? { field: 'spec.nodeName', value: node.value } : undefined;
}

/** matchesFilter tells whether `obj` passes both selectors. */
export function matchesFilter(kind: string, filter: ObjectFilter, obj: KubeObject): boolean {
  return matchesLabels(filter.labels, readMetadata(obj).labels) && matchesFields(kind, filter.fields, obj);
}
