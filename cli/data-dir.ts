/**
 * The local cluster's data folder: everything `coracle up` keeps between runs.
 *
 *   ca.crt, ca.key            the cluster CA (made once; kubeconfigs embed ca.crt)
 *   apiserver.crt, .key       the serving certificate (re-issued when it lacks an address or nears expiry)
 *   tokens.csv                the static token file (Kubernetes format); the admin user's token
 *   coracle.db                the SQLite store (durable.db: orchestrations, queue.db: node work queues)
 *   kubeconfig                written on every start
 *   encryption-keys.json      the key-encryption keys of Secrets at rest (adapters/kms/local.ts)
 *   audit/audit.log           the audit log (audit.k8s.io/v1 Events, one per line; rotated by size)
 *   store-settings.json       while an Azure-shaped cluster runs: how to reach its Cosmos DB emulator
 *
 * Only its owner may read it: the folder is 0700 and every file 0600 (the store holds every
 * Secret, the token file every credential), also when the folder comes from an earlier version
 * that left them 0755/0644. The databases are created 0600 before SQLite opens them, and SQLite
 * gives their -wal and -shm files the database's own mode.
 *
 * Anything present but unreadable or corrupt stops start-up with a {@link DataDirError} naming
 * the file: the cluster never silently starts over.
 */
import { randomBytes } from 'node:crypto';
import { constants, readFileSync, unlinkSync } from 'node:fs';
import { access, chmod, mkdir, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { processAlive, readTextIfExists } from '../local/files.js';
import { ensureKeyFile } from '../adapters/kms/local.js';
import { kubernetesServiceIP, serviceNetwork } from '../shared/apiserver/services.js';
import { createCertificateAuthority, createServingCertificate, inspectCertificate, type CertificatePem } from './pki.js';

/** DataDirError is a problem with one file or folder of the data folder; `file` names it. */
export class DataDirError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
    this.name = 'DataDirError';
  }
}

/** STORE_SETTINGS_FILE holds, while `coracle up --instances` runs, the app settings that reach its store (the Cosmos DB emulator in that process). */
export const STORE_SETTINGS_FILE = 'store-settings.json';

/** securitySettings are the app settings that keep Secrets encrypted and the audit log in data folder `dir`. */
export function securitySettings(dir: string): { CORACLE_ENCRYPTION_KEY_FILE: string; CORACLE_AUDIT_LOG: string } {
  return { CORACLE_ENCRYPTION_KEY_FILE: path.join(dir, 'encryption-keys.json'), CORACLE_AUDIT_LOG: path.join(dir, 'audit', 'audit.log') };
}

/** DataDir is the prepared folder. */
export interface DataDir {
  dir: string;
  ca: CertificatePem;
  serving: CertificatePem;
  adminToken: string;
  tokensFile: string;
  storeFile: string;
  kubeconfigFile: string;
}

const ADMIN_USER = 'admin';
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * SERVING_HOSTS are the names every serving certificate covers: this machine's (`localhost`, its
 * addresses, and its host name, as kubeadm puts the control-plane node's name in its certificate:
 * an agent given `https://<hostname>:<port>` gives its pods that name, agent/apiserver-name.ts), and the in-cluster
 * names of the `default/kubernetes` Service (as kube-apiserver's own certificate: `kubernetes`,
 * `kubernetes.default`, `kubernetes.default.svc`, `kubernetes.default.svc.cluster.local` and the
 * Service's address, the first of the service CIDR), so a pod that verifies the API server with
 * its mounted `ca.crt` accepts it at `https://kubernetes.default.svc`.
 */
export const SERVING_HOSTS: readonly string[] = [
  'localhost', '127.0.0.1', '::1', os.hostname(),
  'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local',
  kubernetesServiceIP(serviceNetwork({ serviceCIDR: process.env.CORACLE_SERVICE_CIDR })),
];

const normalizeHost = (h: string): string => (isIP(h) === 6 ? new URL(`http://[${h}]`).hostname.slice(1, -1) : h.toLowerCase());

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readTextIfExists(file);
  } catch (err) {
    throw new DataDirError(file, `cannot be read: ${(err as Error).message}`, { cause: err });
  }
}

async function writePrivate(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600); // writeFile's mode applies only to a file it creates
}

/** PRIVATE_FILE_MODE and PRIVATE_FOLDER_MODE are the data folder's permissions: its owner's only. */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_FOLDER_MODE = 0o700;
/** DATABASES are the SQLite files `coracle up` keeps in the data folder. */
export const DATABASES = ['coracle.db', 'durable.db', 'queue.db'] as const;

/**
 * makePrivate gives the folder mode 0700 and everything directly in it 0600 (files) or 0700
 * (folders, e.g. Azurite's), and creates the databases 0600 when absent so SQLite (which copies the
 * database's mode to its -wal/-shm files) never makes them world-readable.
 */
export async function makePrivate(dir: string): Promise<void> {
  await chmod(dir, PRIVATE_FOLDER_MODE);
  for (const db of DATABASES) {
    const file = path.join(dir, db);
    try {
      await (await open(file, 'a', PRIVATE_FILE_MODE)).close();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new DataDirError(file, code === 'EISDIR' ? 'is not a file' : `cannot be created: ${(err as Error).message}`, { cause: err });
    }
  }
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    try {
      if (entry.isDirectory()) await chmod(file, PRIVATE_FOLDER_MODE);
      else if (entry.isFile()) await chmod(file, PRIVATE_FILE_MODE);
    } catch (err) {
      throw new DataDirError(file, `cannot be made private to its owner: ${(err as Error).message}`, { cause: err });
    }
  }
}

async function ensureFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: PRIVATE_FOLDER_MODE });
    if (!(await stat(dir)).isDirectory()) throw new Error('is not a folder');
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new DataDirError(dir, `the data folder is not usable: ${(err as Error).message}`, { cause: err });
  }
}

/** loadPair reads a certificate and key, or returns undefined when neither exists; half a pair or a bad one throws. */
async function loadPair(certFile: string, keyFile: string): Promise<CertificatePem | undefined> {
  const [cert, key] = [await readIfPresent(certFile), await readIfPresent(keyFile)];
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined) throw new DataDirError(certFile, `is missing while ${keyFile} exists`);
  if (key === undefined) throw new DataDirError(keyFile, `is missing while ${certFile} exists`);
  try {
    inspectCertificate({ cert, key });
  } catch (err) {
    throw new DataDirError(certFile, `is not a usable certificate with ${path.basename(keyFile)}: ${(err as Error).message}`, { cause: err });
  }
  return { cert, key };
}

async function loadOrCreateCa(dir: string): Promise<CertificatePem> {
  const certFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(dir, 'ca.key');
  const existing = await loadPair(certFile, keyFile);
  if (existing) return existing;
  const ca = createCertificateAuthority();
  await writePrivate(keyFile, ca.key);
  await writePrivate(certFile, ca.cert);
  return ca;
}

async function loadOrCreateServing(dir: string, ca: CertificatePem, extraHosts: readonly string[]): Promise<CertificatePem> {
  const certFile = path.join(dir, 'apiserver.crt');
  const keyFile = path.join(dir, 'apiserver.key');
  const hosts = [...new Set([...SERVING_HOSTS, ...extraHosts].map(normalizeHost))];
  const existing = await loadPair(certFile, keyFile);
  if (existing) {
    const facts = inspectCertificate(existing);
    const covered = new Set(facts.hosts.map(normalizeHost));
    const fresh = facts.notAfter.getTime() - Date.now() > RENEW_BEFORE_MS;
    if (fresh && facts.issuedBy(ca) && hosts.every((h) => covered.has(h))) return existing;
  }
  const serving = createServingCertificate(ca, hosts);
  await writePrivate(keyFile, serving.key);
  await writePrivate(certFile, serving.cert);
  return serving;
}

/**
 * replaceAdminToken puts `token` in place of the admin user's token in the data folder's token
 * file (the seed the next start authenticates), keeping the other lines. Throws DataDirError.
 */
export async function replaceAdminToken(tokensFile: string, token: string): Promise<void> {
  const text = await readIfPresent(tokensFile);
  const lines = (text ?? '').split(/\r?\n/).filter((l) => l.trim() !== '');
  const at = lines.findIndex((l) => l.split(',')[1]?.trim() === ADMIN_USER);
  if (at < 0) throw new DataDirError(tokensFile, `has no token for user "${ADMIN_USER}"`);
  lines[at] = `${token},${ADMIN_USER},${ADMIN_USER},"system:masters"`;
  await writePrivate(tokensFile, `${lines.join('\n')}\n`);
}

/** loadOrCreateAdminToken returns the admin user's token from the token file, creating both if absent. */
async function loadOrCreateAdminToken(tokensFile: string): Promise<string> {
  const text = await readIfPresent(tokensFile);
  if (text === undefined) {
    const token = randomBytes(32).toString('base64url');
    await writePrivate(tokensFile, `${token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`);
    return token;
  }
  const line = text.split(/\r?\n/).find((l) => l.split(',')[1]?.trim() === ADMIN_USER);
  const token = line?.split(',')[0]?.trim();
  if (!token) throw new DataDirError(tokensFile, `has no token for user "${ADMIN_USER}" (expected lines token,user,uid,"groups")`);
  return token;
}

/**
 * prepareDataDir creates or reopens the data folder for a server reachable at `hosts` (besides
 * localhost), returning its credentials. Throws DataDirError naming the file on any problem.
 */
export async function prepareDataDir(dataDir: string, hosts: readonly string[] = []): Promise<DataDir> {
  const dir = path.resolve(dataDir);
  await ensureFolder(dir);
  try {
    await makePrivate(dir);
  } catch (err) {
    if (err instanceof DataDirError) throw err;
    throw new DataDirError(dir, `cannot be made private to its owner: ${(err as Error).message}`, { cause: err });
  }
  const ca = await loadOrCreateCa(dir);
  const serving = await loadOrCreateServing(dir, ca, hosts);
  const tokensFile = path.join(dir, 'tokens.csv');
  const adminToken = await loadOrCreateAdminToken(tokensFile);
  // Made before any server process starts, so processes that start together share one key.
  await ensureKeyFile(securitySettings(dir).CORACLE_ENCRYPTION_KEY_FILE).catch((err: unknown) => {
    throw new DataDirError(securitySettings(dir).CORACLE_ENCRYPTION_KEY_FILE, (err as Error).message, { cause: err });
  });
  const storeFile = path.join(dir, 'coracle.db');
  const storeText = await stat(storeFile).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new DataDirError(storeFile, `cannot be read: ${err.message}`, { cause: err });
  });
  if (storeText && !storeText.isFile()) throw new DataDirError(storeFile, 'is not a file');
  return { dir, ca, serving, adminToken, tokensFile, storeFile, kubeconfigFile: path.join(dir, 'kubeconfig') };
}

/** LOCK_WAIT_MS is how long `coracle up` waits for another process to let go of the data folder. */
const LOCK_WAIT_MS = 60_000;

/**
 * lockDataDir makes this process the only one running a cluster on the data folder (`up.lock`,
 * holding its pid), waiting while another live process holds it: the control plane of the
 * release before, still stopping after its parent was killed (its agents and nodes.json must be
 * left alone before the next one starts them). A lock whose process is gone (kill -9) is taken
 * over. The function it resolves with lets go (also done at exit).
 */
export async function lockDataDir(dataDir: string, waitMs = LOCK_WAIT_MS): Promise<() => void> {
  const file = path.join(path.resolve(dataDir), 'up.lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataDirError(file, `cannot be created: ${(err as Error).message}`, { cause: err });
      const holder = Number(await readTextIfExists(file));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
        if (Date.now() > deadline) throw new DataDirError(file, `is held by process ${holder}, which runs a cluster on this data folder`);
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      await rm(file, { force: true });
    }
  }
  const release = () => {
    try {
      if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return release;
}
