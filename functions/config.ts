/**
 * The app's configuration, typed and validated in one place. In Azure the app settings reach the
 * worker as environment variables; a local host process is started with them in its environment
 * the same way (local/instance.ts). The in-process host of `coracle up` hands the same settings
 * record to `useAppSettings` before the app loads, instead of writing them into `process.env`.
 * Either way `readAppConfig` turns the settings into one `AppConfig`, and nothing else in the app
 * reads an app setting.
 *
 * Settings (names as app settings):
 * - store: `CORACLE_STORE=sqlite:<path>` (local) or `cosmos`/unset (Azure) with
 *   `COSMOS_CONNECTION_STRING`, or `COSMOS_ENDPOINT` + `COSMOS_KEY`, or `COSMOS_ENDPOINT` alone (managed identity); `COSMOS_DATABASE` (`coracle`),
 *   `COSMOS_CONTAINER` (`objects`), `COSMOS_ENDPOINT_DISCOVERY=false` for single-endpoint emulators.
 * - `CORACLE_CLUSTER` (`default`): the store's partition, also the change feed's.
 * - tokens: `CORACLE_TOKENS_FILE` (Kubernetes static token file), `CORACLE_ADMIN_TOKEN` (the admin
 *   token's seed: shared/apiserver/admintoken.ts), `CORACLE_UP_TOKEN` (`coracle up`'s own, per start).
 * - work queue: `CORACLE_QUEUE=sqlite:<path>` (local), `SERVICEBUS_CONNECTION_STRING` (keys), or
 *   `SERVICEBUS_NAMESPACE` (Azure: signed with the managed identity).
 * - identity: `AZURE_CLIENT_ID` picks a user-assigned managed identity for Cosmos DB (COSMOS_ENDPOINT
 *   without a key), Service Bus (SERVICEBUS_NAMESPACE) and Storage (LOGS_BLOB_ENDPOINT); without it
 *   DefaultAzureCredential's chain signs.
 * - container logs: `CORACLE_LOGS` (a connection string), else `LOGS_BLOB_ENDPOINT` (an account
 *   URL signed with the managed identity, or a container URL with a SAS), else `AzureWebJobsStorage`.
 * - `CORACLE_NODE_MONITOR_GRACE_SECONDS` (40), `CORACLE_DEFAULT_TOLERATION_SECONDS` (300).
 * - `CORACLE_MIN_REQUEST_TIMEOUT_SECONDS` (240): a watch without a smaller `timeoutSeconds` ends
 *   after a random time in [min, 2×min], as kube-apiserver's `--min-request-timeout`; it must
 *   leave the watch well inside host.json's `functionTimeout` (10 min).
 * - `CORACLE_WATCH_KEEPALIVE_SECONDS` (30): a quiet watch sends a keep-alive at this interval
 *   (Azure's front end cuts connections idle for about 230 s).
 * - housekeeping: `CORACLE_COMPACTION_INTERVAL_SECONDS` (300: history the compactor keeps),
 *   `CORACLE_EVENT_TTL_SECONDS` (3600: how long an Event lives after its last write).
 * - load shedding (HTTP requests): `CORACLE_MAX_REQUESTS_INFLIGHT`,
 *   `CORACLE_MAX_MUTATING_REQUESTS_INFLIGHT`, `CORACLE_MAX_NODE_HEARTBEATS_INFLIGHT`,
 *   `CORACLE_MAX_UNPAGED_LISTS_INFLIGHT` (shared/apiserver/inflight.ts).
 * - Services: `CORACLE_SERVICE_CIDR` (10.96.0.0/12), `CORACLE_NODE_PORT_RANGE` (30000-32767),
 *   `CORACLE_ADVERTISE_ADDRESS` (`ip:port` where the `kubernetes` Service's endpoints point).
 * - `CORACLE_API_CA_BUNDLE`: the PEM bundle pods get as `ca.crt` to verify the API server
 *   (functions/pod-trust.ts; unset: the cluster CA locally, Node's public roots on Azure).
 * - pod networking: `CORACLE_CLUSTER_CIDR` (unset: nodes get no pod CIDR) and
 *   `CORACLE_NODE_CIDR_MASK_SIZE` (24), kube-controller-manager's `--cluster-cidr` and
 *   `--node-cidr-mask-size`; `CORACLE_ROUTE_TABLE_ID` (an Azure route table's resource id: the
 *   route controller keeps one route per node in it, signed with the managed identity).
 * - node pools on Azure (adapters/nodes/azure.ts): `CORACLE_NODE_POOLS_RESOURCE_GROUP_ID`
 *   (`/subscriptions/<id>/resourceGroups/<group>`) and `CORACLE_NODE_POOLS_SCALE_SET_PREFIX` (a
 *   pool's scale set is `<prefix><pool>`), both or neither: the NodeProvider upgrades add, reimage
 *   and remove nodes through, signed with the managed identity; `CORACLE_ARM_ENDPOINT` (default
 *   Azure's public cloud) for another cloud's Resource Manager.
 * - Secrets encrypted at rest (shared/encryption): `CORACLE_ENCRYPTION_KEY_FILE` (local: the key
 *   file of adapters/kms/local.ts), else `CORACLE_KEYVAULT_KEY_ID` (Azure: a Key Vault key id
 *   without a version, signed with the managed identity); neither: Secrets are stored as given.
 * - audit log (shared/audit): `CORACLE_AUDIT_LOG` (a file, rotated by size), else
 *   `CORACLE_AUDIT_DCE_ENDPOINT` + `CORACLE_AUDIT_DCR_ID` (+ `CORACLE_AUDIT_STREAM`, default
 *   `Custom-CoracleAudit`): Log Analytics through the Logs Ingestion API; `CORACLE_AUDIT_POLICY_FILE`
 *   (an audit.k8s.io/v1 Policy, YAML or JSON; default: shared/audit/policy.ts DEFAULT_POLICY);
 *   `CORACLE_AUDIT_LOG_MAX_BYTES` (100 MiB) and `CORACLE_AUDIT_LOG_MAX_BACKUPS` (5).
 * - OIDC sign-in (shared/apiserver/oidc.ts, kube-apiserver's `--oidc-*` flags): `CORACLE_OIDC_ISSUER_URL`
 *   and `CORACLE_OIDC_CLIENT_ID` (both, or neither), `CORACLE_OIDC_USERNAME_CLAIM` (`sub`),
 *   `CORACLE_OIDC_USERNAME_PREFIX`, `CORACLE_OIDC_GROUPS_CLAIM`, `CORACLE_OIDC_GROUPS_PREFIX`,
 *   `CORACLE_OIDC_REQUIRED_CLAIMS` (`claim=value,claim=value`), `CORACLE_OIDC_CA_FILE` (the issuer's CA, PEM),
 *   `CORACLE_OIDC_SIGNING_ALGS` (`RS256`).
 * - `CORACLE_DATA_DIR`: the local cluster's data folder, whose `releases/` is the release catalog
 *   upgrades read (local/releases.ts).
 * - Azure releases (adapters/releases/): `CORACLE_RELEASES_URL` (the catalog's blob container URL,
 *   signed with the managed identity); with it, `CORACLE_DEPLOYMENT_CONTAINER_URL` (the Flex
 *   Consumption deployment container) and `CORACLE_SITE_ID` (the function app's resource id), both
 *   or neither, make the Azure ControlPlaneHost. Neither a data folder nor a catalog URL: the
 *   catalog is the running build.
 */
import { DEFAULT_NODE_MONITOR_GRACE_MS } from '../shared/controllers/nodelifecycle/monitor.js';
import { EVENT_TTL_MS } from '../shared/controllers/eventttl.js';
import { podCIDRRange } from '../shared/controllers/nodeipam/cidrs.js';
import { inflightLimitsFromSettings, type InflightLimits } from '../shared/apiserver/inflight.js';
import type { OidcConfig } from '../shared/apiserver/oidc.js';
import { checkCaBundle } from './pod-trust.js';

/** Settings are app settings by name (the environment in Azure). */
export type Settings = Readonly<Record<string, string | undefined>>;

/** StoreConfig names the cluster's store. */
export type StoreConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'cosmos'; endpoint: string; /** undefined: signed with `identity` (Entra ID). */ key?: string; identity: IdentityConfig; database: string; container: string; endpointDiscovery: boolean }
  | { kind: 'none' };

/** QueueConfig names the nodes' work queues. */
export type QueueConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'servicebus'; connectionString: string }
  /** Service Bus signed with a Microsoft Entra identity (the app's or the node's managed identity). */
  | { kind: 'servicebus'; namespace: string; identity: IdentityConfig };

/** IdentityConfig names the Microsoft Entra identity that signs requests: a user-assigned managed identity's client id, or DefaultAzureCredential's chain. */
export interface IdentityConfig {
  /** `AZURE_CLIENT_ID`: a user-assigned managed identity; undefined: DefaultAzureCredential. */
  clientId?: string;
}

/** EncryptionConfig names where the key-encryption key of Secrets at rest lives. */
export type EncryptionConfig = { kind: 'keyfile'; file: string } | { kind: 'keyvault'; keyId: string; identity: IdentityConfig };

/** AuditConfig names where audit events go and which policy picks them. */
export interface AuditConfig {
  sink: { kind: 'file'; file: string; maxBytes: number; maxBackups: number } | { kind: 'loganalytics'; endpoint: string; ruleId: string; stream: string; identity: IdentityConfig };
  /** An audit.k8s.io/v1 Policy file; undefined: the default policy. */
  policyFile?: string;
}

/** PodNetworkConfig is the cluster CIDR nodes' pod CIDRs are cut from. */
export interface PodNetworkConfig {
  clusterCIDR: string;
  /** The prefix length of each node's CIDR (24). */
  nodeMaskSize: number;
}

/** RouteTableConfig names an Azure route table by its resource id. */
export interface RouteTableConfig {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  identity: IdentityConfig;
}

/** NodePoolsConfig says where the node pools' VM scale sets are (adapters/nodes/azure.ts). */
export interface NodePoolsConfig {
  subscriptionId: string;
  resourceGroup: string;
  /** A pool's scale set is `${scaleSetPrefix}${pool}`. */
  scaleSetPrefix: string;
  /** Resource Manager's endpoint; undefined: Azure's public cloud. */
  armEndpoint?: string;
  identity: IdentityConfig;
}

/** AzureReleasesConfig names the release catalog container and, for moving the control plane, the app's deployment container and resource id. */
export interface AzureReleasesConfig {
  catalogUrl: string;
  /** Undefined: the catalog is listed, but nothing moves the control plane. */
  deployment?: { containerUrl: string; siteId: string };
  identity: IdentityConfig;
}

/** LogsConfig names the container log sink. */
export type LogsConfig = { connectionString: string } | { containerUrl: string } | { accountUrl: string; identity: IdentityConfig };

/** AppConfig is the whole app's configuration, settled once per process. */
export interface AppConfig {
  store: StoreConfig;
  /** The store's partition (Cosmos DB) and the change feed documents' `cluster`. */
  cluster: string;
  tokensFile?: string;
  adminToken?: string;
  /** `coracle up`'s own per-start token (user UP_USER), so its start-up calls need not the admin token. */
  upToken?: string;
  /** Where pod work for nodes goes; undefined: agents watch their pods instead. */
  queue?: QueueConfig;
  /** Where container logs are; undefined: `pods/log` answers 503. */
  logs?: LogsConfig;
  nodeMonitorGraceMs: number;
  /** tolerationSeconds of the default not-ready/unreachable tolerations; undefined: 300. */
  defaultTolerationSeconds?: number;
  /** The lower bound of a watch's server-chosen timeout, in seconds (kube-apiserver's min-request-timeout). */
  minRequestTimeoutSeconds: number;
  /** How often a quiet watch sends a keep-alive, in milliseconds. */
  watchKeepAliveMs: number;
  /** How much history the store's compactor keeps, in milliseconds. */
  compactionRetentionMs: number;
  /** How long an Event lives after its last write, in milliseconds. */
  eventTtlMs: number;
  /** The max-in-flight limits of HTTP requests. */
  inflight: InflightLimits;
  /** The range ClusterIPs come from; undefined: 10.96.0.0/12. */
  serviceCIDR?: string;
  /** The range node ports come from; undefined: 30000-32767. */
  nodePortRange?: string;
  /** `ip:port` of this API server as pods reach it (the `kubernetes` Service's endpoints). */
  advertiseAddress?: string;
  /** CORACLE_API_CA_BUNDLE: the CA bundle pods trust for the API server (functions/pod-trust.ts); undefined: the cluster CA locally, the public roots on Azure. */
  apiCaBundle?: string;
  /** Where nodes' pod CIDRs come from; undefined: nodes get none (kube-controller-manager's `--allocate-node-cidrs=false`). */
  podNetwork?: PodNetworkConfig;
  /** The route table that makes pod CIDRs routable between VMs; undefined: no route controller. */
  routeTable?: RouteTableConfig;
  /** The node pools' scale sets on Azure; undefined: none (locally the host hands over its own NodeProvider). */
  nodePools?: NodePoolsConfig;
  /** The local data folder (its `releases/` is the release catalog); undefined: the catalog is the running build. */
  dataDir?: string;
  /** The release catalog and deployment on Azure; undefined: none. */
  releases?: AzureReleasesConfig;
  /** How Secrets are encrypted at rest; undefined: they are not. */
  encryption?: EncryptionConfig;
  /** Where the audit log goes; undefined: no audit log. */
  audit?: AuditConfig;
  /** The OIDC issuer whose tokens authenticate users (caPem: a file to read, `caFile`); undefined: none. */
  oidc?: Omit<OidcConfig, 'caPem'> & { caFile?: string };
  /** Application Insights' connection string (APPLICATIONINSIGHTS_CONNECTION_STRING): OpenTelemetry export to Azure Monitor; undefined: none. */
  applicationInsights?: string;
}

const DEFAULT_NODE_MONITOR_GRACE_SECONDS = DEFAULT_NODE_MONITOR_GRACE_MS / 1000;
const DEFAULT_MIN_REQUEST_TIMEOUT_SECONDS = 240;
const DEFAULT_WATCH_KEEPALIVE_SECONDS = 30;

/** positiveSeconds reads a positive number of seconds, naming the setting when it is not one. */
function positiveSeconds(settings: Settings, name: string, fallback: number): number {
  const raw = settings[name];
  if (raw === undefined || raw === '') return fallback;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`${name}="${raw}" is not a positive number of seconds`);
  return seconds;
}

/** connectionParts splits `Key=value;Key=value` (keys lower-cased). */
function connectionParts(text: string | undefined): Map<string, string> {
  const parts = new Map<string, string>();
  for (const part of (text ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) parts.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  return parts;
}

/** readStoreConfig reads the store settings; a setting that is not understood throws, naming it. */
export function readStoreConfig(settings: Settings): StoreConfig {
  const spec = settings.CORACLE_STORE ?? '';
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path) throw new Error('CORACLE_STORE=sqlite: needs a file path');
    return { kind: 'sqlite', path };
  }
  if (spec !== '' && spec !== 'cosmos') throw new Error(`CORACLE_STORE="${spec}" is not understood (use sqlite:<path> or cosmos)`);
  if (!settings.COSMOS_CONNECTION_STRING && !settings.COSMOS_ENDPOINT) return { kind: 'none' };
  const parts = connectionParts(settings.COSMOS_CONNECTION_STRING);
  const endpoint = settings.COSMOS_ENDPOINT ?? parts.get('accountendpoint');
  const key = settings.COSMOS_KEY ?? parts.get('accountkey');
  if (!endpoint) throw new Error('Cosmos DB needs COSMOS_CONNECTION_STRING, or COSMOS_ENDPOINT (with COSMOS_KEY, or without it for the managed identity)');
  return {
    kind: 'cosmos', endpoint, key, identity: identityConfig(settings),
    database: settings.COSMOS_DATABASE ?? 'coracle',
    container: settings.COSMOS_CONTAINER ?? 'objects',
    endpointDiscovery: settings.COSMOS_ENDPOINT_DISCOVERY !== 'false',
  };
}

/** identityConfig reads which managed identity signs requests (`AZURE_CLIENT_ID`, as @azure/identity names it). */
export function identityConfig(settings: Settings): IdentityConfig {
  return { clientId: settings.AZURE_CLIENT_ID || undefined };
}

/** fullyQualifiedNamespace accepts `name`, `name.servicebus.windows.net` or `sb://name.servicebus.windows.net/`. */
export function fullyQualifiedNamespace(value: string): string {
  const host = value.replace(/^sb:\/\//, '').replace(/\/+$/, '');
  return host.includes('.') ? host : `${host}.servicebus.windows.net`;
}

/** readQueueConfig reads the work queue settings (undefined when none is set). */
export function readQueueConfig(settings: Settings): QueueConfig | undefined {
  const spec = settings.CORACLE_QUEUE ?? '';
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path) throw new Error('CORACLE_QUEUE=sqlite: needs a file path');
    return { kind: 'sqlite', path };
  }
  if (spec !== '' && spec !== 'servicebus') throw new Error(`CORACLE_QUEUE="${spec}" is not understood (use sqlite:<path> or servicebus)`);
  if (settings.SERVICEBUS_CONNECTION_STRING) return { kind: 'servicebus', connectionString: settings.SERVICEBUS_CONNECTION_STRING };
  if (settings.SERVICEBUS_NAMESPACE) return { kind: 'servicebus', namespace: fullyQualifiedNamespace(settings.SERVICEBUS_NAMESPACE), identity: identityConfig(settings) };
  if (spec === 'servicebus') throw new Error('CORACLE_QUEUE=servicebus needs SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE');
  return undefined;
}

/** readLogsConfig reads the container log settings (undefined when none is set). */
export function readLogsConfig(settings: Settings): LogsConfig | undefined {
  const { CORACLE_LOGS: local, LOGS_BLOB_ENDPOINT: endpoint, AzureWebJobsStorage: storage } = settings;
  if (local) return { connectionString: local };
  if (endpoint) return endpoint.includes('?') ? { containerUrl: endpoint } : { accountUrl: endpoint, identity: identityConfig(settings) };
  if (storage) return { connectionString: storage };
  return undefined;
}

/** readEncryptionConfig reads the encryption-at-rest settings (undefined when none is set). */
export function readEncryptionConfig(settings: Settings): EncryptionConfig | undefined {
  if (settings.CORACLE_ENCRYPTION_KEY_FILE) return { kind: 'keyfile', file: settings.CORACLE_ENCRYPTION_KEY_FILE };
  if (settings.CORACLE_KEYVAULT_KEY_ID) return { kind: 'keyvault', keyId: settings.CORACLE_KEYVAULT_KEY_ID, identity: identityConfig(settings) };
  return undefined;
}

/** readAuditConfig reads the audit log settings (undefined when none is set). */
export function readAuditConfig(settings: Settings): AuditConfig | undefined {
  const policyFile = settings.CORACLE_AUDIT_POLICY_FILE || undefined;
  if (settings.CORACLE_AUDIT_LOG) {
    const maxBytes = positiveSeconds(settings, 'CORACLE_AUDIT_LOG_MAX_BYTES', 100 * 1024 * 1024);
    const maxBackups = positiveSeconds(settings, 'CORACLE_AUDIT_LOG_MAX_BACKUPS', 5);
    return { sink: { kind: 'file', file: settings.CORACLE_AUDIT_LOG, maxBytes, maxBackups }, policyFile };
  }
  const { CORACLE_AUDIT_DCE_ENDPOINT: endpoint, CORACLE_AUDIT_DCR_ID: ruleId } = settings;
  if (!endpoint && !ruleId) return undefined;
  if (!endpoint || !ruleId) throw new Error('the Log Analytics audit log needs both CORACLE_AUDIT_DCE_ENDPOINT and CORACLE_AUDIT_DCR_ID');
  return { sink: { kind: 'loganalytics', endpoint, ruleId, stream: settings.CORACLE_AUDIT_STREAM || 'Custom-CoracleAudit', identity: identityConfig(settings) }, policyFile };
}

/**
 * readOidcConfig reads the OIDC authenticator's settings (undefined when no issuer is set); a
 * partial or malformed configuration throws, naming the setting.
 */
export function readOidcConfig(settings: Settings): AppConfig['oidc'] {
  const issuerURL = settings.CORACLE_OIDC_ISSUER_URL || undefined;
  const clientId = settings.CORACLE_OIDC_CLIENT_ID || undefined;
  if (!issuerURL && !clientId) return undefined;
  if (!issuerURL || !clientId) throw new Error('OIDC sign-in needs both CORACLE_OIDC_ISSUER_URL and CORACLE_OIDC_CLIENT_ID');
  const requiredClaims: Record<string, string> = {};
  for (const pair of (settings.CORACLE_OIDC_REQUIRED_CLAIMS ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`CORACLE_OIDC_REQUIRED_CLAIMS: "${pair}" is not claim=value`);
    requiredClaims[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return {
    issuerURL, clientId,
    usernameClaim: settings.CORACLE_OIDC_USERNAME_CLAIM || undefined,
    // Set but empty is a prefix of its own ("") on Azure, where Bicep always writes the setting: use `-` for none.
    usernamePrefix: settings.CORACLE_OIDC_USERNAME_PREFIX || undefined,
    groupsClaim: settings.CORACLE_OIDC_GROUPS_CLAIM || undefined,
    groupsPrefix: settings.CORACLE_OIDC_GROUPS_PREFIX || undefined,
    requiredClaims,
    caFile: settings.CORACLE_OIDC_CA_FILE || undefined,
    signingAlgs: settings.CORACLE_OIDC_SIGNING_ALGS ? settings.CORACLE_OIDC_SIGNING_ALGS.split(',').map((a) => a.trim()).filter(Boolean) : undefined,
  };
}

/** readPodNetworkConfig reads the pod networking settings (undefined when no cluster CIDR is set). */
export function readPodNetworkConfig(settings: Settings): PodNetworkConfig | undefined {
  const clusterCIDR = settings.CORACLE_CLUSTER_CIDR;
  if (!clusterCIDR) return undefined;
  const raw = settings.CORACLE_NODE_CIDR_MASK_SIZE;
  const nodeMaskSize = raw ? Number(raw) : 24;
  if (!Number.isInteger(nodeMaskSize)) throw new Error(`CORACLE_NODE_CIDR_MASK_SIZE="${raw}" is not a whole number`);
  try {
    podCIDRRange(clusterCIDR, nodeMaskSize);
  } catch (err) {
    throw new Error(`CORACLE_CLUSTER_CIDR="${clusterCIDR}", CORACLE_NODE_CIDR_MASK_SIZE=${nodeMaskSize}: ${(err as Error).message}`, { cause: err });
  }
  return { clusterCIDR, nodeMaskSize };
}

/** readRouteTableConfig reads `CORACLE_ROUTE_TABLE_ID` (`/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/routeTables/<name>`). */
export function readRouteTableConfig(settings: Settings): RouteTableConfig | undefined {
  const id = settings.CORACLE_ROUTE_TABLE_ID;
  if (!id) return undefined;
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/routeTables\/([^/]+)$/i.exec(id);
  if (!m) throw new Error(`CORACLE_ROUTE_TABLE_ID="${id}" is not a route table's resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/routeTables/<name>)`);
  return { subscriptionId: m[1], resourceGroup: m[2], name: m[3], identity: identityConfig(settings) };
}

/** readNodePoolsConfig reads the node pool settings (undefined when neither is set). */
export function readNodePoolsConfig(settings: Settings): NodePoolsConfig | undefined {
  const { CORACLE_NODE_POOLS_RESOURCE_GROUP_ID: id, CORACLE_NODE_POOLS_SCALE_SET_PREFIX: scaleSetPrefix, CORACLE_ARM_ENDPOINT: armEndpoint } = settings;
  if (!id && !scaleSetPrefix) return undefined;
  if (!id || !scaleSetPrefix) throw new Error('CORACLE_NODE_POOLS_RESOURCE_GROUP_ID and CORACLE_NODE_POOLS_SCALE_SET_PREFIX go together (where the pools\' scale sets are, and how they are named)');
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)$/i.exec(id);
  if (!m) throw new Error(`CORACLE_NODE_POOLS_RESOURCE_GROUP_ID="${id}" is not a resource group's id (/subscriptions/<id>/resourceGroups/<group>)`);
  if (armEndpoint && !/^https:\/\/[^/]+\/?$/.test(armEndpoint)) throw new Error(`CORACLE_ARM_ENDPOINT="${armEndpoint}" is not an https:// endpoint`);
  return { subscriptionId: m[1], resourceGroup: m[2], scaleSetPrefix, ...(armEndpoint ? { armEndpoint } : {}), identity: identityConfig(settings) };
}

/** readAzureReleasesConfig reads the Azure release settings (undefined when CORACLE_RELEASES_URL is unset). */
export function readAzureReleasesConfig(settings: Settings): AzureReleasesConfig | undefined {
  const { CORACLE_RELEASES_URL: catalogUrl, CORACLE_DEPLOYMENT_CONTAINER_URL: containerUrl, CORACLE_SITE_ID: siteId } = settings;
  if (!catalogUrl) {
    if (containerUrl || siteId) throw new Error('CORACLE_DEPLOYMENT_CONTAINER_URL and CORACLE_SITE_ID need CORACLE_RELEASES_URL (the release catalog the control plane moves to)');
    return undefined;
  }
  if (!containerUrl !== !siteId) throw new Error('CORACLE_DEPLOYMENT_CONTAINER_URL and CORACLE_SITE_ID go together (the function app\'s deployment container and its resource id)');
  return { catalogUrl, deployment: containerUrl && siteId ? { containerUrl, siteId } : undefined, identity: identityConfig(settings) };
}

/** readAppConfig settles the app's configuration from its settings; a bad setting throws, naming it. */
export function readAppConfig(settings: Settings): AppConfig {
  const toleration = settings.CORACLE_DEFAULT_TOLERATION_SECONDS;
  const defaultTolerationSeconds = toleration === undefined || toleration === '' ? undefined : Number(toleration);
  if (defaultTolerationSeconds !== undefined && !(Number.isInteger(defaultTolerationSeconds) && defaultTolerationSeconds >= 0)) {
    throw new Error(`CORACLE_DEFAULT_TOLERATION_SECONDS="${toleration}" is not a non-negative whole number`);
  }
  return {
    store: readStoreConfig(settings),
    cluster: settings.CORACLE_CLUSTER || 'default',
    tokensFile: settings.CORACLE_TOKENS_FILE || undefined,
    adminToken: settings.CORACLE_ADMIN_TOKEN || undefined,
    upToken: settings.CORACLE_UP_TOKEN || undefined,
    queue: readQueueConfig(settings),
    logs: readLogsConfig(settings),
    nodeMonitorGraceMs: positiveSeconds(settings, 'CORACLE_NODE_MONITOR_GRACE_SECONDS', DEFAULT_NODE_MONITOR_GRACE_SECONDS) * 1000,
    defaultTolerationSeconds,
    minRequestTimeoutSeconds: positiveSeconds(settings, 'CORACLE_MIN_REQUEST_TIMEOUT_SECONDS', DEFAULT_MIN_REQUEST_TIMEOUT_SECONDS),
    watchKeepAliveMs: positiveSeconds(settings, 'CORACLE_WATCH_KEEPALIVE_SECONDS', DEFAULT_WATCH_KEEPALIVE_SECONDS) * 1000,
    compactionRetentionMs: positiveSeconds(settings, 'CORACLE_COMPACTION_INTERVAL_SECONDS', 300) * 1000,
    eventTtlMs: positiveSeconds(settings, 'CORACLE_EVENT_TTL_SECONDS', EVENT_TTL_MS / 1000) * 1000,
    inflight: inflightLimitsFromSettings(settings),
    serviceCIDR: settings.CORACLE_SERVICE_CIDR || undefined,
    nodePortRange: settings.CORACLE_NODE_PORT_RANGE || undefined,
    advertiseAddress: settings.CORACLE_ADVERTISE_ADDRESS || undefined,
    apiCaBundle: settings.CORACLE_API_CA_BUNDLE ? checkCaBundle(settings.CORACLE_API_CA_BUNDLE) : undefined,
    podNetwork: readPodNetworkConfig(settings),
    routeTable: readRouteTableConfig(settings),
    nodePools: readNodePoolsConfig(settings),
    dataDir: settings.CORACLE_DATA_DIR || undefined,
    releases: readAzureReleasesConfig(settings),
    encryption: readEncryptionConfig(settings),
    audit: readAuditConfig(settings),
    oidc: readOidcConfig(settings),
    applicationInsights: settings.APPLICATIONINSIGHTS_CONNECTION_STRING || undefined,
  };
}

let given: Settings | undefined;
let settled: AppConfig | undefined;

/**
 * useAppSettings gives the app its settings when it runs inside a process that is not started
 * with them in its environment (the in-process host of `coracle up`). Call it before the app
 * starts: parts already built (the store) keep the configuration they were built with.
 */
export function useAppSettings(settings: Settings): void {
  given = { ...settings };
  settled = undefined;
}

/** appConfig returns the process's configuration: the settings given to useAppSettings, else the environment's. */
export function appConfig(): AppConfig {
  settled ??= readAppConfig(given ?? process.env);
  return settled;
}
