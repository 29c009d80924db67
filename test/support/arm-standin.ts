/**
 * A local stand-in for the Azure Resource Manager calls the NodeProvider's Azure adapters make
 * through `@azure/arm-compute` (Compute REST API 2026-04-01): virtual machine scale sets (GET, PUT,
 * PATCH, POST …/delete) and virtual machines (GET list with the `virtualMachineScaleSet/id`
 * filter, PATCH, POST …/reimage); through `@azure/arm-network` (Network REST API 2026-01-01):
 * the routes of the route tables given at start (GET list and one, PUT, DELETE); and with plain
 * fetch (Web REST API 2024-11-01) the One Deploy of the function apps given at start (PUT
 * `sites/<name>/extensions/onedeploy`, adapters/releases/flex.ts), over HTTPS (the SDK sends bearer tokens only over TLS), with
 * long-running operations answered the ARM way (Azure-AsyncOperation, one InProgress poll, then
 * Succeeded). Every request is recorded for the tests to check paths, api-versions and bodies.
 *
 * Where it may differ from ARM: operations complete at once (ARM takes minutes, and VMs pass
 * through Creating); a Flexible VM's name and computer name are generated in a similar but not
 * identical form; only the properties the adapter reads are kept; errors carry ARM's codes
 * (ResourceNotFound, InvalidApiVersionParameter) but not every field; there is no throttling,
 * quota or capacity failure; any bearer token is accepted. A route's PUT is checked for a CIDR
 * prefix and a VirtualAppliance next hop with an IP address (ARM checks more: overlapping
 * prefixes, the 400-route limit), and route tables cannot be created through it.
 */
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, createServingCertificate } from '../../cli/pki.js';

/** COMPUTE_API_VERSION is the api-version @azure/arm-compute 25 sends for these operations. */
export const COMPUTE_API_VERSION = '2026-04-01';
/** NETWORK_API_VERSION is the api-version @azure/arm-network 39 sends for the route operations. */
export const NETWORK_API_VERSION = '2026-01-01';
/** WEB_API_VERSION is the api-version adapters/releases/flex.ts sends for One Deploy. */
export const WEB_API_VERSION = '2024-11-01';
const API_VERSIONS = { Compute: COMPUTE_API_VERSION, Network: NETWORK_API_VERSION, Web: WEB_API_VERSION } as const;
type Provider = keyof typeof API_VERSIONS;

/** ArmRequest is one recorded request. */
export interface ArmRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: any;
}

/** ArmStandin is a running stand-in. */
export interface ArmStandin {
  endpoint: string;
  ca: string;
  requests: ArmRequest[];
  close(): Promise<void>;
}

type Json = Record<string, any>;

/**
 * ArmStandinOptions: `routeTables` are the route tables that exist (`<resourceGroup>/<name>`), empty
 * at start; `sites` the function apps (`<resourceGroup>/<name>`), whose One Deploy calls
 * `onOneDeploy` (a test's stand-in for the platform restarting the app on its package).
 */
export interface ArmStandinOptions {
  routeTables?: string[];
  sites?: string[];
  onOneDeploy?: (site: string, body: any) => void;
}

/** startArmStandin starts the stand-in on 127.0.0.1 (any free port). */
export async function startArmStandin(options: ArmStandinOptions = {}): Promise<ArmStandin> {
  const ca = createCertificateAuthority('arm-standin-ca');
  const cert = createServingCertificate(ca, ['127.0.0.1', 'localhost'], 'arm-standin');
  const sets = new Map<string, Json>();
  const vms = new Map<string, Json>();
  const operations = new Map<string, number>();
  // Route tables by `<resourceGroup>/<name>` (lower case), each a map of its routes by name (lower case).
  const routeTables = new Map((options.routeTables ?? []).map((t) => [t.toLowerCase(), new Map<string, Json>()]));
  const requests: ArmRequest[] = [];
  let base = '';

  const rgPrefix = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\//i;
  const vmsOf = (setId: string) => [...vms.values()].filter((vm) => vm.properties.virtualMachineScaleSet.id.toLowerCase() === setId.toLowerCase());
  const sites = new Set((options.sites ?? []).map((t) => t.toLowerCase()));
  const asyncOp = (sub: string, withResult = false, provider: Provider = 'Compute'): Record<string, string> => {
    const id = randomBytes(8).toString('hex');
    operations.set(id, 0);
    const at = `${base}/subscriptions/${sub}/providers/Microsoft.${provider}/locations/westeurope`;
    const version = API_VERSIONS[provider];
    return {
      'azure-asyncoperation': `${at}/operations/${id}?api-version=${version}`,
      // A POST's (or DELETE's) final result is read at its Location (ARM: operationResults: 200, no body).
      ...(withResult ? { location: `${at}/operationResults/${id}?api-version=${version}` } : {}),
    };
  };
  const scaleTo = (set: Json, capacity: number) => {
    const current = vmsOf(set.id);
    const prefix = set.properties.virtualMachineProfile?.osProfile?.computerNamePrefix ?? set.name;
    for (let i = current.length; i < capacity; i++) {
      // Flexible orchestration names a VM `<set>_<id>` and its host `<computerNamePrefix><suffix>`; the suffix
      // may hold capitals (the agent and the provider lowercase it into the Node name).
      const name = `${set.name}_${randomBytes(4).toString('hex')}`;
      const id = `${set.id.slice(0, set.id.indexOf('/virtualMachineScaleSets/'))}/virtualMachines/${name}`;
      vms.set(name.toLowerCase(), {
        id, name, type: 'Microsoft.Compute/virtualMachines', location: set.location, tags: {},
        properties: { provisioningState: 'Succeeded', vmId: randomBytes(16).toString('hex'), osProfile: { computerName: `${prefix}${randomBytes(3).toString('hex').toUpperCase()}` }, virtualMachineScaleSet: { id: set.id } },
      });
    }
    set.sku = { ...set.sku, capacity };
  };

  type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
  const notFound = (what: string): Answer => ({ status: 404, body: { error: { code: 'ResourceNotFound', message: `The Resource '${what}' was not found.` } } });

  function handle(method: string, url: URL, body: any): Answer {
    const op = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.(?:Compute|Network|Web)\/locations\/[^/]+\/operations\/([^/]+)$/i.exec(url.pathname);
    if (op && method === 'GET') {
      const polls = operations.get(op[2]);
      if (polls === undefined) return notFound(op[2]);
      operations.set(op[2], polls + 1);
      return { status: 200, body: { name: op[2], status: polls === 0 ? 'InProgress' : 'Succeeded' } };
    }
    const result = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.(?:Compute|Network|Web)\/locations\/[^/]+\/operationResults\/([^/]+)$/i.exec(url.pathname);
    if (result && method === 'GET') return operations.has(result[1]) ? { status: 200 } : notFound(result[1]);
    const deploy = oneDeployPath.exec(url.pathname);
    if (deploy) {
      const site = `${deploy[2]}/${deploy[3]}`;
      if (!sites.has(site.toLowerCase())) return notFound(`Microsoft.Web/sites/${deploy[3]}`);
      if (method !== 'PUT') return { status: 405, body: { error: { code: 'MethodNotAllowed', message: `${method} onedeploy` } } };
      if (typeof body?.properties?.packageUri !== 'string') return { status: 400, body: { error: { code: 'BadRequest', message: 'properties.packageUri is required' } } };
      options.onOneDeploy?.(site, body);
      return { status: 202, headers: asyncOp(deploy[1], false, 'Web') };
    }
    const net = networkPrefix.exec(url.pathname);
    if (net) return handleRoutes(method, net, url.pathname.slice(net[0].length).split('/'), body);
    const m = rgPrefix.exec(url.pathname);
    if (!m) return { status: 400, body: { error: { code: 'InvalidRequestUri', message: url.pathname } } };
    const [sub, rg] = [m[1], m[2]];
    const rest = url.pathname.slice(m[0].length).split('/');
    if (rest[0] === 'virtualMachineScaleSets' && rest[1]) {
      const key = rest[1].toLowerCase();
      const set = sets.get(key);
      if (rest.length === 2 && method === 'GET') return set ? { status: 200, body: set } : notFound(rest[1]);
      if (rest.length === 2 && method === 'PUT') {
        const id = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachineScaleSets/${rest[1]}`;
        const created: Json = { ...body, id, name: rest[1], type: 'Microsoft.Compute/virtualMachineScaleSets', properties: { ...body.properties, provisioningState: 'Succeeded' } };
        sets.set(key, created);
        scaleTo(created, body.sku?.capacity ?? 0);
        return { status: set ? 200 : 201, body: created, headers: asyncOp(sub) };
      }
      if (rest.length === 2 && method === 'PATCH') {
        if (!set) return notFound(rest[1]);
        if (body.tags) set.tags = body.tags;
        if (body.properties?.virtualMachineProfile) set.properties.virtualMachineProfile = { ...set.properties.virtualMachineProfile, ...body.properties.virtualMachineProfile };
        if (body.sku?.capacity !== undefined) scaleTo(set, body.sku.capacity);
        return { status: 200, body: set, headers: asyncOp(sub) };
      }
      if (rest.length === 3 && rest[2] === 'delete' && method === 'POST') {
        if (!set) return notFound(rest[1]);
        for (const name of body.instanceIds ?? []) {
          const vm = vms.get(String(name).toLowerCase());
          if (!vm || vm.properties.virtualMachineScaleSet.id !== set.id) return notFound(String(name));
          vms.delete(String(name).toLowerCase());
          set.sku.capacity -= 1;
        }
        return { status: 202, headers: asyncOp(sub, true) };
      }
    }
    if (rest[0] === 'virtualMachines') {
      if (rest.length === 1 && method === 'GET') {
        const filter = url.searchParams.get('$filter');
        const byFilter = filter ? /^'virtualMachineScaleSet\/id' eq '([^']+)'$/.exec(filter) : null;
        if (filter && !byFilter) return { status: 400, body: { error: { code: 'InvalidParameter', message: `unsupported $filter ${filter}` } } };
        const list = byFilter ? vmsOf(byFilter[1]) : [...vms.values()];
        return { status: 200, body: { value: list } };
      }
      const vm = vms.get((rest[1] ?? '').toLowerCase());
      if (!vm) return notFound(rest[1] ?? '');
      if (rest.length === 2 && method === 'GET') return { status: 200, body: vm };
      if (rest.length === 2 && method === 'PATCH') {
        if (body.tags) vm.tags = body.tags;
        return { status: 200, body: vm, headers: asyncOp(sub) };
      }
      if (rest.length === 3 && rest[2] === 'reimage' && method === 'POST') {
        vm.properties.vmId = randomBytes(16).toString('hex'); // a fresh OS disk
        return { status: 202, headers: asyncOp(sub, true) };
      }
    }
    return { status: 400, body: { error: { code: 'UnsupportedOperation', message: `${method} ${url.pathname} is not served by the stand-in` } } };
  }

  const oneDeployPath = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Web\/sites\/([^/]+)\/extensions\/onedeploy$/i;
  const networkPrefix = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/routeTables\/([^/]+)\/routes/i;
  const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
  const IP = /^(\d{1,3}\.){3}\d{1,3}$/;
  const badRequest = (code: string, message: string): Answer => ({ status: 400, body: { error: { code, message } } });

  function handleRoutes(method: string, m: RegExpExecArray, rest: string[], body: any): Answer {
    const [sub, rg, tableName] = [m[1], m[2], m[3]];
    const table = routeTables.get(`${rg}/${tableName}`.toLowerCase());
    if (!table) return notFound(`Microsoft.Network/routeTables/${tableName}`);
    const tableId = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/routeTables/${tableName}`;
    if (rest.length === 1 && rest[0] === '' && method === 'GET') return { status: 200, body: { value: [...table.values()] } };
    const name = rest[1] ?? '';
    if (rest.length !== 2 || name === '') return badRequest('UnsupportedOperation', `${method} routes/${rest.join('/')} is not served by the stand-in`);
    const route = table.get(name.toLowerCase());
    if (method === 'GET') return route ? { status: 200, body: route } : notFound(`Microsoft.Network/routeTables/${tableName}/routes/${name}`);
    if (method === 'DELETE') {
      if (!route) return { status: 204 };
      table.delete(name.toLowerCase());
      return { status: 202, headers: asyncOp(sub, true, 'Network') };
    }
    if (method === 'PUT') {
      const props = body?.properties ?? {};
      if (!CIDR.test(String(props.addressPrefix ?? ''))) return badRequest('InvalidRequestFormat', `route ${name}: addressPrefix ${props.addressPrefix} is not a CIDR`);
      if (props.nextHopType !== 'VirtualAppliance' || !IP.test(String(props.nextHopIpAddress ?? ''))) {
        return badRequest('InvalidRequestFormat', `route ${name}: a VirtualAppliance next hop needs nextHopIpAddress`);
      }
      const stored: Json = {
        id: `${tableId}/routes/${name}`, name, type: 'Microsoft.Network/routeTables/routes', etag: `W/"${randomBytes(8).toString('hex')}"`,
        properties: { provisioningState: 'Succeeded', addressPrefix: props.addressPrefix, nextHopType: props.nextHopType, nextHopIpAddress: props.nextHopIpAddress, hasBgpOverride: false },
      };
      table.set(name.toLowerCase(), stored);
      return { status: route ? 200 : 201, body: { ...stored, properties: { ...stored.properties, provisioningState: 'Updating' } }, headers: asyncOp(sub, false, 'Network') };
    }
    return badRequest('UnsupportedOperation', `${method} is not served for routes by the stand-in`);
  }

  const server = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (text += d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const body = text ? JSON.parse(text) : undefined;
      requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body });
      let answer: Answer;
      if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) answer = { status: 401, body: { error: { code: 'AuthenticationFailed', message: 'no bearer token' } } };
      else if (url.searchParams.get('api-version') !== API_VERSIONS[(/\/providers\/Microsoft\.(Network|Web)\//i.exec(url.pathname)?.[1] ?? 'Compute') as Provider]) answer = { status: 400, body: { error: { code: 'InvalidApiVersionParameter', message: `api-version ${url.searchParams.get('api-version')}` } } };
      else answer = handle(req.method ?? 'GET', url, body);
      res.writeHead(answer.status, { 'content-type': 'application/json', 'x-ms-request-id': randomBytes(8).toString('hex'), ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { endpoint: base, ca: ca.cert, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
