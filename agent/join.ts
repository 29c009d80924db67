/**
 * The node join (kubelet TLS bootstrapping's part, with a bearer token): with a credential file
 * already on the node, the agent uses it; otherwise it posts a NodeCredentialRequest with its
 * bootstrap token (shared/apiserver/nodecredential.ts), writes the credential it gets to the file
 * (0600, folder 0700) and uses it from then on. The bootstrap token is never used again once the
 * node has a credential, so it may expire; a revoked credential is not replaced by itself: the
 * operator removes the file to let the node join again.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { apiErrorFromResponse, type FetchLike } from '../shared/controllers/client.js';
import { NODE_CREDENTIAL_PATH } from '../shared/apiserver/nodecredential.js';
import { isRecord } from '../shared/api/objects.js';

/** JoinOptions say where to join and with what. */
export interface JoinOptions {
  server: string;
  fetch: FetchLike;
  nodeName: string;
  bootstrapToken: string;
  /** Where the node's own credential is kept. */
  credentialFile: string;
  log: (message: string) => void;
}

/** readCredential returns the credential in `file`, or undefined when there is none. */
async function readCredential(file: string): Promise<string | undefined> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw new Error(`cannot read the node credential ${file}: ${err.message}`, { cause: err });
  });
  return text.trim() || undefined;
}

/** requestCredential exchanges the bootstrap token for the node's credential; a refusal throws its ApiError. */
export async function requestCredential(o: Omit<JoinOptions, 'credentialFile' | 'log'>): Promise<string> {
  const response = await o.fetch(new Request(new URL(NODE_CREDENTIAL_PATH, o.server), {
    method: 'POST',
    headers: { authorization: `Bearer ${o.bootstrapToken}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ apiVersion: 'coracle.io/v1', kind: 'NodeCredentialRequest', spec: { nodeName: o.nodeName } }),
  }));
  if (!response.ok) throw await apiErrorFromResponse(response);
  const body: unknown = await response.json();
  const token = isRecord(body) && isRecord(body.status) ? body.status.token : undefined;
  if (typeof token !== 'string' || token === '') throw new Error('the NodeCredentialRequest came back without status.token');
  return token;
}

/** joinCluster returns the node's credential: the one on file, or a new one obtained with the bootstrap token and saved. */
export async function joinCluster(o: JoinOptions): Promise<string> {
  const existing = await readCredential(o.credentialFile);
  if (existing) return existing;
  const token = await requestCredential(o);
  await mkdir(path.dirname(o.credentialFile), { recursive: true, mode: 0o700 });
  // Written aside and renamed: a crash never leaves half a credential behind.
  const partial = `${o.credentialFile}.${process.pid}.partial`;
  await writeFile(partial, `${token}\n`, { mode: 0o600 });
  await rename(partial, o.credentialFile);
  o.log(`joined the cluster as system:node:${o.nodeName}; credential kept in ${o.credentialFile}`);
  return token;
}
