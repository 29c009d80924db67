/**
 * APP_SETTINGS is the one list of the Function App's app settings: what each is for and who reads
 * it. infra/modules/functionapp.bicep writes exactly the settings marked `azure`, and
 * test/infra/settings.test.ts compiles the templates and fails on any drift: a setting the code
 * needs that Bicep does not write, a setting Bicep writes that nothing reads, or a setting the
 * code reads that is not listed here. (functions/runtime.ts documents how each is used; this
 * module only lists them, so the typed configuration can build on it.)
 */

/** AppSetting describes one app setting. */
export interface AppSetting {
  name: string;
  description: string;
  /** `code`: this repository reads it; `host`: the Functions host or an extension does. */
  readBy: 'code' | 'host';
  /** Written by the Bicep templates for Azure (else: local or optional only). */
  azure: boolean;
  /** Set when Bicep writes it but the code's reader is still to come (the test lists these). */
  readerPending?: string;
}

/** APP_SETTINGS lists every app setting; see the module comment. */
export const APP_SETTINGS: readonly AppSetting[] = [
  { name: 'AzureWebJobsStorage__accountName', readBy: 'host', azure: true, description: 'Storage account of the Functions host and the durable task hub, reached with the app\'s managed identity.' },
  { name: 'AzureWebJobsStorage', readBy: 'code', azure: false, description: 'A storage connection string (local hosts; the log sink falls back to it).' },
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', readBy: 'host', azure: true, description: 'Where the host sends telemetry.' },
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', readBy: 'host', azure: true, description: '`Authorization=AAD`: telemetry signed with the managed identity (the component has local auth off).' },
  { name: 'CORACLE_CLUSTER', readBy: 'code', azure: true, description: 'The cluster\'s name: the store\'s partition key value.' },
  { name: 'CORACLE_ADMIN_TOKEN', readBy: 'code', azure: true, description: 'Bearer token of user `admin` in `system:masters`.' },
  { name: 'CORACLE_UP_TOKEN', readBy: 'code', azure: false, description: 'Bearer token of `system:coracle-up` in `system:masters`, made anew at each start by `coracle up` and passed only in memory and its processes\' environment: its own start-up calls do not depend on the admin token, which may be rotated or disabled (local).' },
  { name: 'CORACLE_TOKENS_FILE', readBy: 'code', azure: false, description: 'A Kubernetes static token file (local).' },
  { name: 'CORACLE_STORE', readBy: 'code', azure: false, description: '`sqlite:<path>` (local) or `cosmos`.' },
  { name: 'CORACLE_QUEUE', readBy: 'code', azure: false, description: '`sqlite:<path>`: the embedded work queue (local).' },
  { name: 'CORACLE_DATA_DIR', readBy: 'code', azure: false, description: 'The local cluster\'s data folder; its `releases/` is the release catalog the Cluster\'s availableUpgrades come from (local).' },
  { name: 'CORACLE_RELEASES_URL', readBy: 'code', azure: true, description: 'Blob container URL of the release catalog (package zips with their version in metadata, adapters/releases/blob.ts), read with the app\'s managed identity.' },
  { name: 'CORACLE_DEPLOYMENT_CONTAINER_URL', readBy: 'code', azure: true, description: 'Blob container URL the Flex Consumption app runs its package from (released-package.zip): a control-plane upgrade writes the release there (adapters/releases/flex.ts).' },
  { name: 'CORACLE_SITE_ID', readBy: 'code', azure: true, description: 'The function app\'s own resource id: a control-plane upgrade asks ARM for a One Deploy of it.' },
  { name: 'CORACLE_LOGS', readBy: 'code', azure: false, description: 'Blob connection string for container logs (local: Azurite).' },
  { name: 'COSMOS_ENDPOINT', readBy: 'code', azure: true, description: 'Cosmos DB document endpoint; in Azure without a key (the app\'s identity has a data-plane role).' },
  { name: 'COSMOS_KEY', readBy: 'code', azure: false, description: 'Cosmos DB key (emulators only: Azure\'s account has local auth off).' },
  { name: 'COSMOS_CONNECTION_STRING', readBy: 'code', azure: false, description: 'Cosmos DB connection string (emulators; the change-feed trigger\'s `connection` name).' },
  { name: 'COSMOS_CONNECTION_STRING__accountEndpoint', readBy: 'host', azure: true, description: 'Identity-based form of the change-feed trigger\'s connection `COSMOS_CONNECTION_STRING`.' },
  { name: 'COSMOS_DATABASE', readBy: 'code', azure: true, description: 'Database of the store (also `%COSMOS_DATABASE%` in the trigger).' },
  { name: 'COSMOS_CONTAINER', readBy: 'code', azure: true, description: 'Container of the store.' },
  { name: 'COSMOS_ENDPOINT_DISCOVERY', readBy: 'code', azure: false, description: '`false` for single-endpoint emulators.' },
  { name: 'SERVICEBUS_CONNECTION_STRING', readBy: 'code', azure: false, description: 'Service Bus connection string (a namespace with SAS keys; Azure\'s has them off).' },
  { name: 'SERVICEBUS_NAMESPACE', readBy: 'code', azure: true, description: 'Fully qualified Service Bus namespace, reached with the app\'s managed identity (agents: with the VM\'s).' },
  { name: 'AZURE_CLIENT_ID', readBy: 'code', azure: false, description: 'Client id of a user-assigned managed identity to sign Cosmos DB, Service Bus and Storage requests with (the nodes set it; the Function App uses its system-assigned identity, so DefaultAzureCredential).' },
  { name: 'LOGS_BLOB_ENDPOINT', readBy: 'code', azure: true, description: 'Blob endpoint of the container logs (signed with the managed identity).' },
  { name: 'CORACLE_NODE_MONITOR_GRACE_SECONDS', readBy: 'code', azure: false, description: 'How long a node may go without a heartbeat before it is marked Unknown, seconds.' },
  { name: 'CORACLE_DEFAULT_TOLERATION_SECONDS', readBy: 'code', azure: false, description: 'Default not-ready/unreachable toleration (admission), seconds.' },
  { name: 'CORACLE_MIN_REQUEST_TIMEOUT_SECONDS', readBy: 'code', azure: false, description: 'Lower bound of a watch\'s server-chosen timeout (default 240 s, inside functionTimeout).' },
  { name: 'CORACLE_WATCH_KEEPALIVE_SECONDS', readBy: 'code', azure: false, description: 'Keep-alive interval of a quiet watch (default 30 s, under the front end\'s idle cut).' },
  { name: 'CORACLE_COMPACTION_INTERVAL_SECONDS', readBy: 'code', azure: false, description: 'History the store compactor keeps (default 300 s).' },
  { name: 'CORACLE_EVENT_TTL_SECONDS', readBy: 'code', azure: false, description: 'How long an Event lives after its last write (default 3600 s).' },
  { name: 'CORACLE_MAX_REQUESTS_INFLIGHT', readBy: 'code', azure: false, description: 'Read-only HTTP requests served at once before 429 (default 100).' },
  { name: 'CORACLE_MAX_MUTATING_REQUESTS_INFLIGHT', readBy: 'code', azure: false, description: 'Mutating HTTP requests served at once before 429 (default 50).' },
  { name: 'CORACLE_MAX_NODE_HEARTBEATS_INFLIGHT', readBy: 'code', azure: false, description: 'Node Lease renewals and Node status writes at once (default 50).' },
  { name: 'CORACLE_MAX_UNPAGED_LISTS_INFLIGHT', readBy: 'code', azure: false, description: 'Unpaged, unfiltered lists at once (default 8).' },
  { name: 'CORACLE_SERVICE_CIDR', readBy: 'code', azure: false, description: 'Range of Services\' cluster IPs (default 10.96.0.0/12).' },
  { name: 'CORACLE_NODE_PORT_RANGE', readBy: 'code', azure: false, description: 'Range of node ports (default 30000-32767).' },
  { name: 'CORACLE_CLUSTER_CIDR', readBy: 'code', azure: true, description: 'The range nodes\' pod CIDRs are cut from (kube-controller-manager\'s --cluster-cidr); unset: nodes get none.' },
  { name: 'CORACLE_NODE_CIDR_MASK_SIZE', readBy: 'code', azure: false, description: 'Prefix length of each node\'s pod CIDR (default 24).' },
  { name: 'CORACLE_ROUTE_TABLE_ID', readBy: 'code', azure: true, description: 'Resource id of the route table where the route controller keeps one route per node (pod CIDR -> node IP), written with the app\'s managed identity.' },
  { name: 'CORACLE_NODE_POOLS_RESOURCE_GROUP_ID', readBy: 'code', azure: true, description: 'Resource group id (/subscriptions/<id>/resourceGroups/<group>) of the node pools\' VM scale sets, which cluster upgrades scale out, reimage and scale in with the app\'s managed identity.' },
  { name: 'CORACLE_NODE_POOLS_SCALE_SET_PREFIX', readBy: 'code', azure: true, description: 'A node pool\'s scale set is named <prefix><pool> (the Bicep: <stem>-pool-).' },
  { name: 'CORACLE_ARM_ENDPOINT', readBy: 'code', azure: false, description: 'Azure Resource Manager endpoint for the node pools (default: the public cloud\'s).' },
  { name: 'CORACLE_ADVERTISE_ADDRESS', readBy: 'code', azure: false, description: '`ip:port` of the API server as pods reach it (the `kubernetes` Service\'s endpoints).' },
  { name: 'CORACLE_API_CA_BUNDLE', readBy: 'code', azure: true, description: 'PEM bundle pods get as `ca.crt` (kube-root-ca.crt, projected ServiceAccount volumes) to verify the API server at the host name their nodes give them; empty: the public roots Node ships (the Function App\'s certificate is a public one); locally unset: the cluster CA.' },
  { name: 'CORACLE_ENCRYPTION_KEY_FILE', readBy: 'code', azure: false, description: 'Key file of the key-encryption keys of Secrets at rest (local; adapters/kms/local.ts).' },
  { name: 'CORACLE_KEYVAULT_KEY_ID', readBy: 'code', azure: true, description: 'Key Vault key (id without a version) that wraps the data keys of Secrets at rest, used with the app\'s managed identity.' },
  { name: 'CORACLE_AUDIT_LOG', readBy: 'code', azure: false, description: 'Audit log file, rotated by size (local).' },
  { name: 'CORACLE_AUDIT_LOG_MAX_BYTES', readBy: 'code', azure: false, description: 'Size at which the audit log file rotates (default 100 MiB).' },
  { name: 'CORACLE_AUDIT_LOG_MAX_BACKUPS', readBy: 'code', azure: false, description: 'Rotated audit log files kept (default 5).' },
  { name: 'CORACLE_AUDIT_POLICY_FILE', readBy: 'code', azure: false, description: 'An audit.k8s.io/v1 Policy (YAML or JSON); default: shared/audit/policy.ts DEFAULT_POLICY.' },
  { name: 'CORACLE_AUDIT_DCE_ENDPOINT', readBy: 'code', azure: true, description: 'Logs ingestion endpoint of the data collection endpoint the audit log goes to (Log Analytics, infra/modules/audit.bicep).' },
  { name: 'CORACLE_AUDIT_DCR_ID', readBy: 'code', azure: true, description: 'Immutable id of the data collection rule of the audit log.' },
  { name: 'CORACLE_AUDIT_STREAM', readBy: 'code', azure: true, description: 'The rule\'s stream (default Custom-CoracleAudit).' },
  { name: 'CORACLE_OIDC_ISSUER_URL', readBy: 'code', azure: true, description: 'OIDC issuer whose tokens sign users in (kube-apiserver\'s --oidc-issuer-url); on Azure https://login.microsoftonline.com/<tenant>/v2.0, empty: no OIDC sign-in.' },
  { name: 'CORACLE_OIDC_CLIENT_ID', readBy: 'code', azure: true, description: 'The audience OIDC tokens must carry (--oidc-client-id): on Azure the API app registration\'s client id.' },
  { name: 'CORACLE_OIDC_USERNAME_CLAIM', readBy: 'code', azure: true, description: 'Claim that names the user (--oidc-username-claim, default sub).' },
  { name: 'CORACLE_OIDC_USERNAME_PREFIX', readBy: 'code', azure: true, description: 'Prefix of usernames (--oidc-username-prefix; unset: `<issuer>#` unless the claim is email; `-`: none).' },
  { name: 'CORACLE_OIDC_GROUPS_CLAIM', readBy: 'code', azure: true, description: 'Claim that lists the user\'s groups (--oidc-groups-claim; Entra: groups or roles).' },
  { name: 'CORACLE_OIDC_GROUPS_PREFIX', readBy: 'code', azure: true, description: 'Prefix of every group (--oidc-groups-prefix).' },
  { name: 'CORACLE_OIDC_REQUIRED_CLAIMS', readBy: 'code', azure: true, description: '`claim=value,…` every token must carry (--oidc-required-claim; Entra: tid=<tenant>).' },
  { name: 'CORACLE_OIDC_SIGNING_ALGS', readBy: 'code', azure: false, description: 'JWS algorithms OIDC tokens may be signed with, comma-separated (--oidc-signing-algs, default RS256: Entra\'s).' },
  { name: 'CORACLE_OIDC_CA_FILE', readBy: 'code', azure: false, description: 'PEM CA of the issuer\'s serving certificate (--oidc-ca-file; default: the system roots).' },
];
