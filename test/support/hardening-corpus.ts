/**
 * The hardening corpus: every malformed or hostile request found so far (issue 15's abuse probe
 * and each bug since), with the answer Kubernetes gives. The API server's unit suite checks each
 * answer exactly, the end-to-end suite sends them over HTTPS to a running cluster, and the fuzz
 * suite starts from them. A new bug adds its request here.
 */

/** CorpusCase is one request and the answer expected (status; message when it is worth pinning). */
export interface CorpusCase {
  name: string;
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  status: number;
  message?: string | RegExp;
}

/** CORPUS_SETUP creates what the cases act on (in namespace default): ConfigMap `c1`, Pod `p1`. */
export const CORPUS_SETUP: readonly CorpusCase[] = [
  { name: 'setup configmap', method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' }, data: { a: 'b' } }), status: 201 },
  { name: 'setup pod', method: 'POST', path: '/api/v1/namespaces/default/pods', body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }), status: 201 },
];

const MERGE = 'application/merge-patch+json';
const SMP = 'application/strategic-merge-patch+json';
const CM = '/api/v1/namespaces/default/configmaps';
const deployment = (name: string, replicas: unknown): string => JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
});
const pod = (name: string, spec: Record<string, unknown>): string => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } });
const podResources = (name: string, resources: unknown): string => pod(name, { containers: [{ name: 'c', image: 'i', resources }] });
const deepJson = (n: number): string => `{"data":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`;
const ALIAS_BOMB = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefghi'.split('').map((k, i) => {
  const prev = 'abcdefghi'[i];
  return `${k}: &${k} [${Array(9).fill(`*${prev}`).join(',')}]`;
})].join('\n');

/** HARDENING_CORPUS: issue 15's repros (items 3–5), each with Kubernetes' answer. */
export const HARDENING_CORPUS: readonly CorpusCase[] = [
  // Item 3: integrity.
  { name: 'merge patch changing kind', method: 'PATCH', path: `${CM}/c1`, body: '{"kind":"Pod"}', contentType: MERGE, status: 422, message: 'ConfigMap "c1" is invalid: kind: Invalid value: "Pod": field is immutable' },
  { name: 'merge patch changing kind to Namespace', method: 'PATCH', path: `${CM}/c1`, body: '{"kind":"Namespace","apiVersion":"v1"}', contentType: MERGE, status: 422 },
  { name: 'strategic patch changing apiVersion', method: 'PATCH', path: `${CM}/c1`, body: '{"apiVersion":"v2"}', contentType: SMP, status: 422, message: /apiVersion: Invalid value: "v2"/ },
  { name: 'json patch replacing kind', method: 'PATCH', path: `${CM}/c1`, body: '[{"op":"replace","path":"/kind","value":"Secret"}]', contentType: 'application/json-patch+json', status: 422 },
  { name: 'put with another kind', method: 'PUT', path: `${CM}/c1`, body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c1' } }), status: 400, message: /^Namespace in version "v1" cannot be handled as a ConfigMap/ },
  { name: 'post with another apiVersion', method: 'POST', path: CM, body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } }), status: 400, message: 'the API version in the data (apps/v1) does not match the expected API version (v1)' },
  { name: 'pod update changing args', method: 'PATCH', path: '/api/v1/namespaces/default/pods/p1', body: '{"spec":{"containers":[{"name":"c","args":["x"]}]}}', contentType: SMP, status: 422, message: /^Pod "p1" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/ },
  { name: 'pod update changing env', method: 'PATCH', path: '/api/v1/namespaces/default/pods/p1', body: '{"spec":{"containers":[{"name":"c","env":[{"name":"A","value":"1"}]}]}}', contentType: SMP, status: 422 },
  { name: 'pod update changing the image', method: 'PATCH', path: '/api/v1/namespaces/default/pods/p1', body: '{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}', contentType: SMP, status: 200 },
  { name: 'pod update adding a toleration', method: 'PATCH', path: '/api/v1/namespaces/default/pods/p1', body: '[{"op":"add","path":"/spec/tolerations/-","value":{"key":"k","operator":"Exists"}}]', contentType: 'application/json-patch+json', status: 200 },
  { name: 'pod update removing tolerations', method: 'PATCH', path: '/api/v1/namespaces/default/pods/p1', body: '[{"op":"remove","path":"/spec/tolerations/2"}]', contentType: 'application/json-patch+json', status: 422 },
  // Item 4: validation.
  { name: 'replicas 1e12', method: 'POST', path: '/apis/apps/v1/namespaces/default/deployments', body: deployment('r1', 1e12), status: 400, message: 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number 1000000000000 into Go struct field DeploymentSpec.spec.replicas of type int32' },
  { name: 'replicas 2^31', method: 'POST', path: '/apis/apps/v1/namespaces/default/deployments', body: deployment('r2', 2 ** 31), status: 400, message: /number 2147483648 into Go struct field DeploymentSpec.spec.replicas of type int32/ },
  { name: 'replicas 1.5', method: 'POST', path: '/apis/apps/v1/namespaces/default/deployments', body: deployment('r3', 1.5), status: 400, message: /number 1.5 into Go struct field/ },
  { name: 'replicas as a string', method: 'POST', path: '/apis/apps/v1/namespaces/default/deployments', body: deployment('r4', '3'), status: 400, message: /cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32/ },
  { name: 'replicas -1', method: 'POST', path: '/apis/apps/v1/namespaces/default/deployments', body: deployment('r5', -1), status: 422, message: 'Deployment.apps "r5" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0' },
  { name: 'negative terminationGracePeriodSeconds', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod('g1', { terminationGracePeriodSeconds: -5 }), status: 422, message: 'Pod "g1" is invalid: spec.terminationGracePeriodSeconds: Invalid value: -5: must be greater than or equal to 0' },
  { name: 'cpu -1', method: 'POST', path: '/api/v1/namespaces/default/pods', body: podResources('q1', { requests: { cpu: '-1' } }), status: 422, message: 'Pod "q1" is invalid: spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0' },
  { name: 'cpu 1e999999', method: 'POST', path: '/api/v1/namespaces/default/pods', body: podResources('q2', { limits: { cpu: '1e999999' } }), status: 422, message: /resources.limits\[cpu\]: Invalid value: "1e999999": must be less than or equal to 9223372036854775807/ },
  { name: 'cpu not a quantity', method: 'POST', path: '/api/v1/namespaces/default/pods', body: podResources('q3', { limits: { cpu: 'lots' } }), status: 400, message: /quantities must match the regular expression/ },
  { name: 'request over limit', method: 'POST', path: '/api/v1/namespaces/default/pods', body: podResources('q4', { limits: { cpu: '1' }, requests: { cpu: '2' } }), status: 422, message: /must be less than or equal to cpu limit of 1/ },
  { name: 'malformed clusterIP', method: 'POST', path: '/api/v1/namespaces/default/services', body: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's1' }, spec: { clusterIP: '999.1.1.1', ports: [{ port: 80 }] } }), status: 422, message: 'Service "s1" is invalid: spec.clusterIPs[0]: Invalid value: "999.1.1.1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' },
  { name: 'configmap over 1 MiB', method: 'POST', path: CM, body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(1024 * 1024) } }), status: 422, message: 'ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes' },
  { name: 'secret over 1 MiB', method: 'POST', path: '/api/v1/namespaces/default/secrets', body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'big' }, data: { a: Buffer.alloc(1024 * 1024).toString('base64') } }), status: 422, message: 'Secret "big" is invalid: data: Too long: may not be more than 1048576 bytes' },
  { name: 'fieldManager over 128 characters', method: 'POST', path: `${CM}?fieldManager=${'x'.repeat(129)}`, body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fm1' } }), status: 422, message: 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes' },
  { name: 'fieldManager with a control character', method: 'PATCH', path: `${CM}/c1?fieldManager=a%01b`, body: '{}', contentType: MERGE, status: 422, message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\x01b": invalid character U+0001 (at position 1)' },
  { name: 'force=maybe', method: 'PATCH', path: `${CM}/c1?fieldManager=x&force=maybe`, body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"}}', contentType: 'application/apply-patch+yaml', status: 400, message: /strconv.ParseBool: parsing "maybe": invalid syntax/ },
  // Item 5: 500s that must be 4xx.
  { name: 'JSON nested 100,000 deep (create)', method: 'POST', path: CM, body: `{"metadata":{"name":"d"},"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, status: 400, message: /exceeded max depth/ },
  { name: 'JSON nested 100,000 deep (merge patch)', method: 'PATCH', path: `${CM}/c1`, body: deepJson(100_000), contentType: MERGE, status: 400 },
  { name: 'JSON nested 100,000 deep (strategic merge patch)', method: 'PATCH', path: `${CM}/c1`, body: deepJson(100_000), contentType: SMP, status: 400 },
  { name: 'JSON nested 900 deep (strategic merge patch)', method: 'PATCH', path: `${CM}/c1`, body: deepJson(900), contentType: SMP, status: 422, message: /json: cannot unmarshal object into Go struct field ConfigMap.data of type string/ },
  { name: 'a ConfigMap value that is not a string', method: 'POST', path: CM, body: '{"metadata":{"name":"n1"},"data":{"a":1}}', status: 400, message: 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string' },
  { name: 'YAML nested 100,000 deep', method: 'POST', path: CM, body: `metadata: {name: y}\ndata: ${'['.repeat(100_000)}`, contentType: 'application/yaml', status: 400 },
  { name: 'YAML alias bomb', method: 'POST', path: CM, body: ALIAS_BOMB, contentType: 'application/yaml', status: 400, message: 'error converting YAML to JSON: yaml: document contains excessive aliasing' },
  { name: '%ZZ in a path', method: 'GET', path: `${CM}/%ZZ`, status: 400, message: 'invalid URL escape "%ZZ"' },
  { name: 'limit=1e30', method: 'GET', path: `${CM}?limit=1e30`, status: 400, message: /^invalid limit: "1e30"/ },
  { name: 'limit past int64', method: 'GET', path: `${CM}?limit=99999999999999999999`, status: 400 },
  { name: 'limit of int64 max', method: 'GET', path: `${CM}?limit=9223372036854775807`, status: 200 },
  { name: 'merge patch {"metadata":null}', method: 'PATCH', path: `${CM}/c1`, body: '{"metadata":null}', contentType: MERGE, status: 400, message: 'the name of the object () does not match the name on the URL (c1)' },
  { name: 'strategic merge {"$patch":"delete"}', method: 'PATCH', path: `${CM}/c1`, body: '{"$patch":"delete"}', contentType: SMP, status: 422 },
  { name: 'strategic merge {"$patch":0} (fuzz)', method: 'PATCH', path: '/api/v1/namespaces/default/pods/p1', body: '{"$patch":0}', contentType: SMP, status: 400, message: 'unknown patch type: 0 in map: map[$patch:0]' },
  { name: 'strategic merge list without its merge key', method: 'PATCH', path: '/api/v1/namespaces/default/pods/p1', body: '{"spec":{"containers":[{"image":"x"}]}}', contentType: SMP, status: 400 },
  { name: 'merge patch adding a metadata key "" (fuzz)', method: 'PATCH', path: `${CM}/c1`, body: '{"metadata":{"":0}}', contentType: MERGE, status: 200 },
  { name: 'YAML !!binary value (fuzz)', method: 'POST', path: '/api/v1/namespaces/default/pods', body: '!!binary 1e9', contentType: 'application/yaml', status: 400 },
  { name: 'json patch moving the root into itself (fuzz)', method: 'PATCH', path: '/api/v1/namespaces/default/pods/p1', body: '[{"op":"move","path":"/","from":""}]', contentType: 'application/json-patch+json', status: 422 },
  { name: 'json patch replacing the root', method: 'PATCH', path: `${CM}/c1`, body: '[{"op":"replace","path":"","value":7}]', contentType: 'application/json-patch+json', status: 422 },
];
