/**
 * The node join: a bootstrap token's user exchanges a NodeCredentialRequest for a credential of
 * the node's own (user `system:node:<name>`, group `system:nodes`), which the node authorizer
 * then confines. It plays the part of kubelet TLS bootstrapping (a CSR auto-approved for
 * `system:bootstrappers` and signed by the cluster CA) with a bearer token instead of a client
 * certificate: in Azure the Functions front end terminates TLS, so a client certificate would
 * reach the API only as a forwarded header, and a certificate cannot be revoked at once without a
 * CRL, whereas the token's Secret can be deleted (see tokens.ts).
 *
 * `POST /apis/coracle.io/v1/nodecredentialrequests` with
 * `{"apiVersion":"coracle.io/v1","kind":"NodeCredentialRequest","spec":{"nodeName":"<name>"}}`
 * answers 201 with the same object and `status.token`. Like `kubeadm join`, it refuses (409) to
 * issue a credential for a name whose Node exists and is Ready, so a bootstrap token cannot take
 * over a live node's identity.
 */
import { findResourceByKind, storageKey } from '../api/resources.js';
import { ApiError, badRequest, invalid, methodNotAllowed } from '../api/status.js';
import { isRecord } from '../api/objects.js';
import { isDNS1123Subdomain } from '../api/validation.js';
import type { Store } from '../store/store.js';
import type { UserInfo } from './context.js';
import { readBody } from './body.js';
import { jsonResponse } from './respond.js';
import { isBootstrapper, issueNodeCredential } from './tokens.js';

/** NODE_CREDENTIAL_PATH is where NodeCredentialRequests are posted. */
export const NODE_CREDENTIAL_PATH = '/apis/coracle.io/v1/nodecredentialrequests';
const NODES = findResourceByKind('v1', 'Node')!;
const KIND = 'NodeCredentialRequest';
/** Longest node name whose credential Secret name (`node-credential-<name>`) is still a valid name. */
const MAX_NODE_NAME = 253 - 'node-credential-'.length;

function forbiddenToRequest(user: UserInfo): ApiError {
  return new ApiError(403, 'Forbidden', `nodecredentialrequests.coracle.io is forbidden: User "${user.username}" cannot create resource "nodecredentialrequests" in API group "coracle.io" at the cluster scope`, { group: 'coracle.io', kind: 'nodecredentialrequests' });
}

function requestedNodeName(body: unknown): string {
  const spec = isRecord(body) && isRecord(body.spec) ? body.spec : {};
  if (!isRecord(body) || body.kind !== KIND) throw badRequest(`the body must be a ${KIND}`);
  const name = spec.nodeName;
  const problems = typeof name !== 'string' ? ['Required value'] : [...isDNS1123Subdomain(name), ...(name.length > MAX_NODE_NAME ? [`must be no more than ${MAX_NODE_NAME} characters`] : [])];
  if (problems.length > 0) {
    throw invalid('coracle.io', KIND, '', [{ reason: typeof name === 'string' ? 'FieldValueInvalid' : 'FieldValueRequired', field: 'spec.nodeName', message: problems.join('; ') }]);
  }
  return name as string;
}

/** isReadyNode tells whether the stored Node has condition Ready=True. */
function isReadyNode(node: Readonly<Record<string, unknown>>): boolean {
  const status = isRecord(node.status) ? node.status : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  return conditions.some((c) => isRecord(c) && c.type === 'Ready' && c.status === 'True');
}

/**
 * handleNodeCredentialRequest serves NODE_CREDENTIAL_PATH: only bootstrap tokens' users (and
 * `system:masters`) may post; anyone else gets 403.
 */
export async function handleNodeCredentialRequest(store: Store, request: Request, user: UserInfo, now: Date): Promise<Response> {
  if (request.method !== 'POST') throw methodNotAllowed();
  if (!isBootstrapper(user) && !user.groups.includes('system:masters')) throw forbiddenToRequest(user);
  const nodeName = requestedNodeName((await readBody(request)).value);
  const node = await store.get(storageKey(NODES, undefined, nodeName));
  if (node && isReadyNode(node.value)) {
    throw new ApiError(409, 'AlreadyExists', `a Node with name "${nodeName}" and status "Ready" already exists in the cluster: remove it (kubectl delete node ${nodeName}) or wait until it is not Ready before joining again under that name`, { name: nodeName, kind: 'nodes' });
  }
  const token = await issueNodeCredential(store, nodeName, user.username, now);
  return jsonResponse({
    apiVersion: 'coracle.io/v1', kind: KIND, metadata: { creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z') },
    spec: { nodeName }, status: { token, username: `system:node:${nodeName}` },
  }, 201);
}
