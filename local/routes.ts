/**
 * Azure Functions HTTP route templates (ASP.NET routing syntax), compiled for the local host.
 *
 * Supported, as in Azure: literal segments (matched case-insensitively), `{name}`, `{name?}`,
 * `{name=default}`, catch-all `{*rest}` / `{**rest}` as the last segment, several parameters in
 * one segment (`{file}.{ext}`), and inline constraints (`{id:int}`, `{n:min(1)}`,
 * `{s:regex(^a+$)}`, ...). A constraint the host does not know fails the compile loudly.
 */

/** RouteParams are the matched parameter values by name (absent optional parameters are left out). */
export type RouteParams = Record<string, string>;

/** CompiledRoute matches request paths against one template. */
export interface CompiledRoute {
  template: string;
  /** Sort key: routes compare element by element, lower first (literals before parameters before catch-alls). */
  precedence: number[];
  match(path: string): RouteParams | undefined;
}

interface Parameter {
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue?: string;
  constraints: Array<(value: string) => boolean>;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const numberPattern = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const integerInRange = (min: bigint, max: bigint) => (v: string) => /^[-+]?\d+$/.test(v) && BigInt(v) >= min && BigInt(v) <= max;

/** CONSTRAINTS are ASP.NET's inline route constraints, by name; `args` are the parenthesised arguments. */
const CONSTRAINTS: Record<string, (args: string[]) => (value: string) => boolean> = {
  int: () => integerInRange(-(2n ** 31n), 2n ** 31n - 1n),
  long: () => integerInRange(-(2n ** 63n), 2n ** 63n - 1n),
  bool: () => (v) => /^(true|false)$/i.test(v),
  alpha: () => (v) => /^[a-z]+$/i.test(v),
  guid: () => (v) => /^[{(]?[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}[)}]?$/i.test(v),
  float: () => (v) => numberPattern.test(v),
  double: () => (v) => numberPattern.test(v),
  decimal: () => (v) => numberPattern.test(v),
  datetime: () => (v) => !Number.isNaN(Date.parse(v)),
  minlength: ([n]) => (v) => v.length >= Number(n),
  maxlength: ([n]) => (v) => v.length <= Number(n),
  length: ([a, b]) => (v) => (b === undefined ? v.length === Number(a) : v.length >= Number(a) && v.length <= Number(b)),
  min: ([n]) => (v) => numberPattern.test(v) && Number(v) >= Number(n),
  max: ([n]) => (v) => numberPattern.test(v) && Number(v) <= Number(n),
  range: ([a, b]) => (v) => numberPattern.test(v) && Number(v) >= Number(a) && Number(v) <= Number(b),
  regex: ([expr]) => {
    const re = new RegExp(expr ?? '', 'i');
    return (v) => re.test(v);
  },
};

/** Splits `name:int:min(1)` at colons outside parentheses. */
function splitConstraints(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of body) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ':' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

function parseParameter(token: string, template: string): Parameter {
  let body = token;
  const catchAll = body.startsWith('*');
  body = body.replace(/^\*{1,2}/, '');
  let defaultValue: string | undefined;
  const eq = body.indexOf('=');
  if (eq >= 0 && !body.slice(0, eq).includes('(')) {
    defaultValue = body.slice(eq + 1);
    body = body.slice(0, eq);
  }
  const optional = body.endsWith('?');
  if (optional) body = body.slice(0, -1);
  const [name, ...constraintTexts] = splitConstraints(body);
  if (!name || !/^[A-Za-z_][\w-]*$/.test(name)) throw new Error(`route "${template}": bad parameter "{${token}}"`);
  const constraints = constraintTexts.map((text) => {
    const m = /^(\w+)(?:\((.*)\))?$/s.exec(text);
    const make = m ? CONSTRAINTS[m[1]!.toLowerCase()] : undefined;
    if (!m || !make) throw new Error(`route "${template}": unsupported route constraint "${text}" on "${name}"`);
    const args = m[2] === undefined ? [] : m[1]!.toLowerCase() === 'regex' ? [m[2]] : m[2].split(',');
    return make(args);
  });
  return { name, optional: optional || defaultValue !== undefined, catchAll, defaultValue, constraints };
}

/** Splits one segment into literal text and `{parameter}` tokens (`{{` and `}}` are literal braces). */
function tokenizeSegment(segment: string, template: string): Array<string | Parameter> {
  const out: Array<string | Parameter> = [];
  const re = /\{\{|\}\}|\{([^{}]*)\}|[^{}]+/g;
  let consumed = 0;
  for (const m of segment.matchAll(re)) {
    consumed += m[0].length;
    if (m[0] === '{{' || m[0] === '}}') out.push(m[0][0]!);
    else if (m[1] !== undefined) out.push(parseParameter(m[1], template));
    else out.push(m[0]);
  }
  if (consumed !== segment.length) throw new Error(`route "${template}": unbalanced braces in "${segment}"`);
  return out;
}

/** compileRoute compiles an Azure route template (without the route prefix). */
export function compileRoute(template: string): CompiledRoute {
  const segments = template.replace(/^\/+|\/+$/g, '').split('/').filter((s) => s !== '');
  const params: Parameter[] = [];
  const precedence: number[] = [];
  let pattern = '';
  segments.forEach((segment, index) => {
    const tokens = tokenizeSegment(segment, template);
    const only = tokens.length === 1 && typeof tokens[0] !== 'string' ? tokens[0] : undefined;
    if (only?.catchAll && index !== segments.length - 1) throw new Error(`route "${template}": a catch-all must be the last segment`);
    if (only) {
      params.push(only);
      const group = only.catchAll ? '(.*)' : '([^/]+)';
      pattern += only.optional || only.catchAll ? `(?:/${group})?` : `/${group}`;
      precedence.push(only.catchAll ? 5 : only.constraints.length ? 3 : 4);
      return;
    }
    pattern += '/';
    for (const token of tokens) {
      if (typeof token === 'string') pattern += escapeRegExp(token);
      else {
        if (token.catchAll) throw new Error(`route "${template}": a catch-all must be a whole segment`);
        params.push(token);
        pattern += '([^/]+?)';
      }
    }
    precedence.push(tokens.every((t) => typeof t === 'string') ? 1 : 2);
  });
  const regex = new RegExp(`^${pattern}/?$`, 'i');
  return {
    template,
    precedence,
    match(path: string): RouteParams | undefined {
      const m = regex.exec(path === '' ? '/' : path);
      if (!m) return undefined;
      const values: RouteParams = {};
      for (const [i, param] of params.entries()) {
        const raw = m[i + 1];
        const value = raw === undefined || raw === '' ? param.defaultValue : safeDecode(raw, param.catchAll);
        if (value === undefined) {
          if (!param.optional && !param.catchAll) return undefined;
          continue;
        }
        if (!param.constraints.every((ok) => ok(value))) return undefined;
        values[param.name] = value;
      }
      return values;
    },
  };
}

/** Route values are decoded; a catch-all keeps encoded slashes encoded, as ASP.NET does. */
function safeDecode(raw: string, keepSlashes: boolean): string {
  try {
    return keepSlashes ? raw.split(/%2f/i).map(decodeURIComponent).join('%2F') : decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** compareRoutes orders routes most specific first. */
export function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
  const n = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < n; i++) {
    const d = (a.precedence[i] ?? 0) - (b.precedence[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.template.localeCompare(b.template);
}
