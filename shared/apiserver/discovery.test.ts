import { serveDiscovery } from './discovery.js';
import { RESOURCES, groupVersion } from '../api/resources.js';

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

async function get(path: string, accept = 'application/json', method = 'GET'): Promise<{ status: number; type: string; body: any; headers: Headers }> {
  const url = new URL(path, 'https://127.0.0.1:6443');
  const response = await serveDiscovery(new Request(url, { method, headers: { accept } }), url);
  if (!response) return { status: 0, type: '', body: undefined, headers: new Headers() };
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

describe('legacy discovery', () => {
  test('/version is a version.Info for v1.35', async () => {
    const r = await get('/version');
    expect(r.body).toMatchObject({ major: '1', minor: '35', gitVersion: 'v1.35.0-coracle', platform: expect.stringMatching(/\//) });
  });

  test('/api and /apis list versions and groups', async () => {
    expect((await get('/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const apis = (await get('/apis')).body;
    expect(apis.kind).toBe('APIGroupList');
    const groups = [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => r.group))];
    expect(apis.groups.map((g: any) => g.name)).toEqual(groups);
    expect(apis.groups[0].preferredVersion).toEqual({ groupVersion: `${groups[0]}/v1`, version: 'v1' });
    expect((await get('/apis/apps')).body).toMatchObject({ kind: 'APIGroup', name: 'apps' });
  });

  test('/api/v1 and /apis/<g>/<v> list resources and subresources', async () => {
    const core = (await get('/api/v1')).body;
    expect(core).toMatchObject({ kind: 'APIResourceList', groupVersion: 'v1' });
    const pods = core.resources.find((r: any) => r.name === 'pods');
    expect(pods).toMatchObject({ singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po'], categories: ['all'] });
    expect(pods.verbs).toContain('watch');
    expect(core.resources.find((r: any) => r.name === 'pods/eviction')).toMatchObject({ group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    expect(core.resources.find((r: any) => r.name === 'pods/log')).toMatchObject({ kind: 'Pod', verbs: ['get'] });
    expect(core.resources.find((r: any) => r.name === 'nodes')).toMatchObject({ namespaced: false });
    const apps = (await get('/apis/apps/v1')).body;
    expect(apps.resources.find((r: any) => r.name === 'deployments/scale')).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    for (const r of RESOURCES) {
      const list = (await get(r.group === '' ? '/api/v1' : `/apis/${groupVersion(r)}`)).body;
      expect(list.resources.map((x: any) => x.name)).toContain(r.plural);
    }
  });

  test('unknown groups are 404 Status; writes are 405; other paths are not ours', async () => {
    expect((await get('/apis/batch/v1')).status).toBe(404);
    expect((await get('/apis/batch')).body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    expect((await get('/api', 'application/json', 'POST')).status).toBe(405);
    expect((await get('/api/v1/pods')).status).toBe(0);
    expect((await get('/healthz')).status).toBe(0);
  });
});

describe('aggregated discovery', () => {
  test('/api answers APIGroupDiscoveryList v2 with the matching Content-Type', async () => {
    const r = await get('/api', AGGREGATED);
    expect(r.type).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(r.headers.get('vary')).toBe('Accept');
    expect(r.body).toMatchObject({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2' });
    expect(r.body.items).toHaveLength(1);
    const v1 = r.body.items[0].versions[0];
    expect(v1).toMatchObject({ version: 'v1', freshness: 'Current' });
    const pods = v1.resources.find((x: any) => x.resource === 'pods');
    expect(pods).toMatchObject({
      responseKind: { group: '', version: 'v1', kind: 'Pod' }, scope: 'Namespaced', singularResource: 'pod', shortNames: ['po'],
    });
    expect(pods.subresources).toContainEqual({ subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] });
    expect(v1.resources.find((x: any) => x.resource === 'nodes').scope).toBe('Cluster');
  });

  test('/apis lists each named group; v2beta1 when only that is asked; plain JSON otherwise', async () => {
    const r = await get('/apis', AGGREGATED);
    const names = r.body.items.map((g: any) => g.metadata.name);
    expect(names).toEqual([...new Set(RESOURCES.filter((x) => x.group !== '').map((x) => x.group))]);
    const apps = r.body.items.find((g: any) => g.metadata.name === 'apps');
    expect(apps.versions[0].resources.map((x: any) => x.resource)).toEqual(['deployments', 'replicasets']);
    const beta = await get('/apis', 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList');
    expect(beta.type).toContain('v=v2beta1');
    expect(beta.body.apiVersion).toBe('apidiscovery.k8s.io/v2beta1');
    expect((await get('/apis', 'application/json')).body.kind).toBe('APIGroupList');
    expect((await get('/apis', 'application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')).body.kind).toBe('APIGroupList');
  });
});

describe('OpenAPI', () => {
  test('/openapi/v2 is Swagger 2.0 with every served kind; protobuf-only requests get 406', async () => {
    const r = await get('/openapi/v2');
    expect(r.body.swagger).toBe('2.0');
    const pod = r.body.definitions['io.k8s.api.core.v1.Pod'];
    expect(pod['x-kubernetes-group-version-kind']).toEqual([{ group: '', version: 'v1', kind: 'Pod' }]);
    expect(pod.properties.spec.$ref).toBe('#/definitions/io.k8s.api.core.v1.PodSpec');
    const containers = r.body.definitions['io.k8s.api.core.v1.PodSpec'].properties.containers;
    expect(containers).toMatchObject({ type: 'array', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' });
    expect((await get('/openapi/v2', 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf')).status).toBe(406);
  });

  test('/openapi/v3 indexes one hashed document per group version', async () => {
    const index = (await get('/openapi/v3')).body;
    const keys = Object.keys(index.paths).sort();
    expect(keys).toEqual([...new Set(RESOURCES.map((r) => (r.group === '' ? 'api/v1' : `apis/${r.group}/${r.version}`)))].sort());
    const url: string = index.paths['apis/apps/v1'].serverRelativeURL;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
    const doc = await get(url);
    expect(doc.headers.get('cache-control')).toContain('immutable');
    expect(doc.body.openapi).toBe('3.0.0');
    const deployment = doc.body.components.schemas['io.k8s.api.apps.v1.Deployment'];
    expect(deployment['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    expect(deployment.properties.spec.allOf).toEqual([{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec' }]);
    expect(doc.body.components.schemas['io.k8s.api.core.v1.PodSpec']).toBeDefined();
    expect(doc.body.components.schemas['io.k8s.api.autoscaling.v1.Scale']).toBeDefined();
    expect(doc.body.components.schemas['io.k8s.api.core.v1.Node']).toBeUndefined();
    const patch = doc.body.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect(patch.parameters.map((p: any) => p.name)).toContain('fieldValidation');
    const stale = await get('/openapi/v3/apis/apps/v1?hash=0');
    expect(stale.status).toBe(301);
    expect((await get('/openapi/v3/apis/batch/v1')).status).toBe(404);
  });

  test('every $ref in every document resolves', async () => {
    const index = (await get('/openapi/v3')).body;
    for (const entry of Object.values(index.paths) as { serverRelativeURL: string }[]) {
      const doc = (await get(entry.serverRelativeURL)).body;
      const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
      for (const ref of refs) expect(doc.components.schemas[ref.slice('"#/components/schemas/'.length, -1)]).toBeDefined();
    }
    const v2 = (await get('/openapi/v2')).body;
    for (const ref of JSON.stringify(v2).match(/"#\/definitions\/[^"]+"/g) ?? []) {
      expect(v2.definitions[ref.slice('"#/definitions/'.length, -1)]).toBeDefined();
    }
  });
});
