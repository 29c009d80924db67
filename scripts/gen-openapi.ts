/**
 * gen-openapi builds `shared/api/openapi/data/definitions.json`: the OpenAPI definitions of every kind
 * Coracle serves and every type they reference, with Kubernetes' descriptions.
 *
 * Sources (both well-kept packages generated from Kubernetes' own OpenAPI spec):
 * - `kubernetes-models` / `@kubernetes-models/apimachinery` `.d.ts` files: the structure, definition
 *   names, descriptions (TSDoc), required fields (non-optional members) and enums (string literal unions);
 * - `@kubernetes/client-node` models' `attributeTypeMap`: the `format` of each field (int32, int64,
 *   double, date-time, byte), which tells integers from floating point numbers.
 * Patch merge keys and list types are not carried by either; `shared/api/openapi/list-semantics.ts`
 * adds them at load time.
 *
 * Run: `node --experimental-strip-types scripts/gen-openapi.ts` (after changing RESOURCES or upgrading
 * those packages), then commit the JSON.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

type Schema = Record<string, unknown>;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(resolve(root, 'package.json'));
const modelsDir = dirname(require.resolve('kubernetes-models/package.json'));
const machineryDir = dirname(require.resolve('@kubernetes-models/apimachinery/package.json'));
const clientModelsDir = resolve(root, 'node_modules/@kubernetes/client-node/dist/gen/models');
const outFile = resolve(root, 'shared/api/openapi/data/definitions.json');

/** Every served kind, its list, the subresource kinds and the meta kinds a client meets. */
async function rootDefinitions(): Promise<string[]> {
  const { RESOURCES } = (await import(resolve(root, 'shared/api/resources.ts'))) as typeof import('../shared/api/resources.js');
  const names = new Set<string>();
  for (const r of RESOURCES) {
    names.add(apiDefinition(r.group, r.version, r.kind));
    if (r.verbs.includes('list')) names.add(apiDefinition(r.group, r.version, r.listKind));
    for (const s of r.subresources) names.add(apiDefinition(s.group, s.version, s.kind));
  }
  // Coracle's own kinds and the Metrics API are written by hand (shared/api/openapi/coracle.ts, metrics.ts).
  for (const name of [...names]) if (!hasModel(name)) names.delete(name);
  for (const kind of ['Status', 'DeleteOptions', 'WatchEvent', 'APIResourceList', 'APIGroupList', 'APIVersions', 'Patch'])
    names.add(`io.k8s.apimachinery.pkg.apis.meta.v1.${kind}`);
  names.add('io.k8s.apimachinery.pkg.version.Info');
  return [...names];
}

function apiDefinition(group: string, version: string, kind: string): string {
  return `io.k8s.api.${group === '' ? 'core' : group.split('.')[0]}.${version}.${kind}`;
}

/** definitionFile finds the `.d.ts` that declares a definition. */
function definitionFile(name: string): string {
  const parts = name.split('.');
  const kind = parts.at(-1)!;
  if (name.startsWith('io.k8s.apimachinery.pkg.')) {
    return resolve(machineryDir, ...parts.slice(4, -1), `${kind}.d.ts`);
  }
  const [group, version] = [parts[3]!, parts[4]!];
  if (group === 'core') return resolve(modelsDir, version, `${kind}.d.ts`);
  const groupDir = [group, `${group}.k8s.io`, `${group}.apiserver.k8s.io`, `${group}.authorization.k8s.io`].find((g) => existsSync(resolve(modelsDir, g)));
  if (!groupDir) throw new Error(`no kubernetes-models folder for ${name}`);
  return resolve(modelsDir, groupDir, version, `${kind}.d.ts`);
}

function hasModel(name: string): boolean {
  try {
    return existsSync(definitionFile(name));
  } catch {
    return false;
  }
}

/** definitionOfFile is the inverse of definitionFile. */
function definitionOfFile(file: string): string {
  const kind = file.replace(/^.*\//, '').replace(/\.d\.ts$/, '');
  if (file.startsWith(machineryDir)) {
    const dirs = relative(machineryDir, dirname(file)).split('/');
    return ['io.k8s.apimachinery.pkg', ...dirs, kind].join('.');
  }
  const [groupDir, version] = relative(modelsDir, dirname(file)).split('/');
  if (version === undefined) return `io.k8s.api.core.${groupDir}.${kind}`;
  return `io.k8s.api.${groupDir!.split('.')[0]}.${version}.${kind}`;
}

function docOf(node: ts.Node): string | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join('\n').trim();
  return text === '' ? undefined : text;
}

/** clientFormats reads @kubernetes/client-node's attributeTypeMap for a definition, if one matches. */
async function clientFormats(name: string, fields: readonly string[]): Promise<Map<string, string> | undefined> {
  const parts = name.split('.');
  const kind = parts.at(-1)!;
  const version = parts.at(-2)!;
  const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
  const group = parts[2] === 'api' ? parts[3]! : '';
  const candidates = [`${pascal(version)}${kind}`, `${pascal(group)}${pascal(version)}${kind}`];
  for (const candidate of candidates) {
    const file = resolve(clientModelsDir, `${candidate}.js`);
    if (!existsSync(file)) continue;
    const model = (await import(file)) as Record<string, { attributeTypeMap?: { baseName: string; format: string }[] }>;
    const map = model[candidate]?.attributeTypeMap;
    if (!map) continue;
    const names = new Set(map.map((a) => a.baseName));
    if (!fields.every((f) => names.has(f))) continue;
    return new Map(map.map((a) => [a.baseName, a.format]));
  }
  return undefined;
}

/** Types kubernetes-models spells as aliases; Kubernetes' spec gives them these shapes. */
const SCALARS: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string' },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': { type: 'object' },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': { type: 'object' },
};

class Generator {
  readonly definitions = new Map<string, Schema>();
  private readonly pending: string[] = [];
  private standardDocs = new Map<string, string>();
  unmatchedFormats: string[] = [];

  async run(roots: string[]): Promise<void> {
    this.standardDocs = this.typeMetaDocs();
    this.pending.push(...roots);
    while (this.pending.length > 0) {
      const name = this.pending.shift()!;
      if (this.definitions.has(name)) continue;
      this.definitions.set(name, {});
      this.definitions.set(name, await this.definition(name));
    }
  }

  private typeMetaDocs(): Map<string, string> {
    const status = this.parse(definitionFile('io.k8s.apimachinery.pkg.apis.meta.v1.Status'));
    const docs = new Map<string, string>();
    for (const member of status.iface!.members) {
      const key = member.name && ts.isStringLiteral(member.name) ? member.name.text : '';
      if (key === 'apiVersion' || key === 'kind') docs.set(key, docOf(member) ?? '');
    }
    return docs;
  }

  private parse(file: string): { source: ts.SourceFile; iface?: ts.InterfaceDeclaration; alias?: ts.TypeAliasDeclaration; imports: Map<string, string> } {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const kind = file.replace(/^.*\//, '').replace(/\.d\.ts$/, '');
    const imports = new Map<string, string>();
    let iface: ts.InterfaceDeclaration | undefined;
    let alias: ts.TypeAliasDeclaration | undefined;
    for (const statement of source.statements) {
      if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
        const spec = statement.moduleSpecifier.text;
        if (spec === '@kubernetes-models/base') continue;
        const target = spec.startsWith('.')
          ? resolve(dirname(file), spec.replace(/\.js$/, '.d.ts'))
          : resolve(machineryDir, spec.replace('@kubernetes-models/apimachinery/', '') + '.d.ts');
        const bindings = statement.importClause?.namedBindings;
        if (bindings && ts.isNamedImports(bindings)) for (const el of bindings.elements) imports.set(el.name.text, definitionOfFile(target));
      }
      if (ts.isInterfaceDeclaration(statement) && statement.name.text === `I${kind}`) iface = statement;
      if (ts.isTypeAliasDeclaration(statement) && statement.name.text === `I${kind}`) alias = statement;
    }
    return { source, iface, alias, imports };
  }

  private async definition(name: string): Promise<Schema> {
    const parsed = this.parse(definitionFile(name));
    const node = parsed.iface ?? parsed.alias;
    if (!node) throw new Error(`no interface in ${definitionFile(name)}`);
    const description = docOf(node);
    if (SCALARS[name]) return { ...(description ? { description } : {}), ...SCALARS[name] };
    if (!parsed.iface) throw new Error(`${name} is an alias with no known shape`);
    const fields = parsed.iface.members.filter(ts.isPropertySignature);
    const keys = fields.map((f) => (f.name as ts.StringLiteral).text);
    const formats = await clientFormats(name, keys);
    if (!formats && keys.length > 0) this.unmatchedFormats.push(name);
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const field of fields) {
      const key = (field.name as ts.StringLiteral).text;
      const doc = docOf(field) ?? this.standardDocs.get(key);
      const literalTypeMeta = (key === 'apiVersion' || key === 'kind') && field.type && ts.isLiteralTypeNode(field.type);
      const schema = literalTypeMeta ? { type: 'string' } : this.typeSchema(field.type!, parsed.imports, formats?.get(key) ?? '');
      properties[key] = { ...(doc ? { description: doc } : {}), ...schema };
      if (!field.questionToken && !literalTypeMeta) required.push(key);
    }
    const schema: Schema = { ...(description ? { description } : {}), type: 'object', properties };
    if (required.length > 0) schema.required = required.sort();
    return schema;
  }

  private typeSchema(type: ts.TypeNode, imports: Map<string, string>, format: string): Schema {
    if (type.kind === ts.SyntaxKind.StringKeyword) return format === '' || format === 'string' ? { type: 'string' } : { type: 'string', format };
    if (type.kind === ts.SyntaxKind.BooleanKeyword) return { type: 'boolean' };
    if (type.kind === ts.SyntaxKind.NumberKeyword) return numberSchema(format);
    if (type.kind === ts.SyntaxKind.AnyKeyword || type.kind === ts.SyntaxKind.UnknownKeyword) return { type: 'object' };
    if (ts.isUnionTypeNode(type) && type.types.every((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal))) {
      return { type: 'string', enum: type.types.map((t) => ((t as ts.LiteralTypeNode).literal as ts.StringLiteral).text) };
    }
    if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName)) {
      const ref = type.typeName.text;
      if (ref === 'Array' && type.typeArguments?.length === 1) return { type: 'array', items: this.typeSchema(type.typeArguments[0]!, imports, format) };
      const target = imports.get(ref);
      if (!target) throw new Error(`unresolved type ${ref}`);
      this.pending.push(target);
      return { $ref: target };
    }
    if (ts.isTypeLiteralNode(type) && type.members.length === 1 && ts.isIndexSignatureDeclaration(type.members[0]!)) {
      return { type: 'object', additionalProperties: this.typeSchema(type.members[0].type, imports, format) };
    }
    if (ts.isTypeLiteralNode(type) && type.members.length === 0) return { type: 'object' };
    throw new Error(`unsupported type ${ts.SyntaxKind[type.kind]}: ${type.getText()}`);
  }
}

function numberSchema(format: string): Schema {
  if (format === 'double' || format === 'float') return { type: 'number', format };
  // Kubernetes' API has almost no floating point fields; an unknown format is an integer.
  return { type: 'integer', format: format === 'int64' ? 'int64' : 'int32' };
}

const generator = new Generator();
await generator.run(await rootDefinitions());
const sorted = Object.fromEntries([...generator.definitions.entries()].sort(([a], [b]) => a.localeCompare(b)));
const out = {
  $comment: 'GENERATED by scripts/gen-openapi.ts from kubernetes-models and @kubernetes/client-node; do not edit. ' +
    'Regenerate: node --experimental-strip-types scripts/gen-openapi.ts',
  definitions: sorted,
};
writeFileSync(outFile, JSON.stringify(out, null, 1) + '\n');
console.log(`${generator.definitions.size} definitions written to ${relative(root, outFile)}`);
if (generator.unmatchedFormats.length > 0) console.log(`no client-node formats for: ${generator.unmatchedFormats.join(', ')}`);
