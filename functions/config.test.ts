import { readAppConfig, readAuditConfig, readAzureReleasesConfig, readEncryptionConfig, readLogsConfig, readOidcConfig, readQueueConfig, readStoreConfig } from './config.js';

describe('readAppConfig', () => {
  test('local settings: SQLite store and queue, Azurite logs, defaults for the rest', () => {
    const config = readAppConfig({ CORACLE_STORE: 'sqlite:/d/store.db', CORACLE_QUEUE: 'sqlite:/d/queue.db', CORACLE_LOGS: 'UseDevelopmentStorage=true' });
    expect(config).toEqual({
      store: { kind: 'sqlite', path: '/d/store.db' }, cluster: 'default', tokensFile: undefined, adminToken: undefined,
      queue: { kind: 'sqlite', path: '/d/queue.db' }, logs: { connectionString: 'UseDevelopmentStorage=true' },
      nodeMonitorGraceMs: 40_000, defaultTolerationSeconds: undefined, minRequestTimeoutSeconds: 240, watchKeepAliveMs: 30_000,
      compactionRetentionMs: 300_000, eventTtlMs: 3_600_000,
      inflight: { readOnly: 32, mutating: 16, nodeHeartbeat: 50, heavyLists: 4, retryAfterSeconds: 1 },
      serviceCIDR: undefined, nodePortRange: undefined, advertiseAddress: undefined,
    });
  });

  test('Azure settings: Cosmos DB from a connection string, Service Bus, blob endpoint with managed identity', () => {
    const settings = {
      COSMOS_CONNECTION_STRING: 'AccountEndpoint=https://a.documents.azure.com:443/;AccountKey=k==;', COSMOS_DATABASE: 'db', CORACLE_CLUSTER: 'prod',
      SERVICEBUS_CONNECTION_STRING: 'Endpoint=sb://x/', LOGS_BLOB_ENDPOINT: 'https://acct.blob.core.windows.net',
    };
    expect(readStoreConfig(settings)).toEqual({ kind: 'cosmos', endpoint: 'https://a.documents.azure.com:443/', key: 'k==', identity: { clientId: undefined }, database: 'db', container: 'objects', endpointDiscovery: true });
    expect(readQueueConfig(settings)).toEqual({ kind: 'servicebus', connectionString: 'Endpoint=sb://x/' });
    expect(readLogsConfig(settings)).toEqual({ accountUrl: 'https://acct.blob.core.windows.net', identity: { clientId: undefined } });
    expect(readAppConfig(settings).cluster).toBe('prod');
  });

  test('OIDC sign-in: the --oidc-* flags as settings; issuer and client id go together', () => {
    expect(readOidcConfig({})).toBeUndefined();
    expect(readOidcConfig({
      CORACLE_OIDC_ISSUER_URL: 'https://login.microsoftonline.com/t1/v2.0', CORACLE_OIDC_CLIENT_ID: 'api', CORACLE_OIDC_USERNAME_CLAIM: 'oid',
      CORACLE_OIDC_USERNAME_PREFIX: '', CORACLE_OIDC_GROUPS_CLAIM: 'groups', CORACLE_OIDC_GROUPS_PREFIX: 'entra:', CORACLE_OIDC_REQUIRED_CLAIMS: 'tid=t1, ver=2.0',
    })).toEqual({
      issuerURL: 'https://login.microsoftonline.com/t1/v2.0', clientId: 'api', usernameClaim: 'oid', usernamePrefix: undefined,
      groupsClaim: 'groups', groupsPrefix: 'entra:', requiredClaims: { tid: 't1', ver: '2.0' }, caFile: undefined, signingAlgs: undefined,
    });
    expect(readOidcConfig({ CORACLE_OIDC_ISSUER_URL: 'https://i', CORACLE_OIDC_CLIENT_ID: 'api', CORACLE_OIDC_SIGNING_ALGS: 'RS256, ES256' })?.signingAlgs).toEqual(['RS256', 'ES256']);
    expect(() => readOidcConfig({ CORACLE_OIDC_ISSUER_URL: 'https://issuer' })).toThrow('CORACLE_OIDC_CLIENT_ID');
    expect(() => readOidcConfig({ CORACLE_OIDC_ISSUER_URL: 'https://issuer', CORACLE_OIDC_CLIENT_ID: 'api', CORACLE_OIDC_REQUIRED_CLAIMS: 'tid' })).toThrow('CORACLE_OIDC_REQUIRED_CLAIMS');
  });

  test('node pools: the scale sets\' resource group and name prefix, both or neither, and another cloud\'s ARM endpoint', () => {
    const rg = '/subscriptions/s1/resourceGroups/rg1';
    expect(readAppConfig({ CORACLE_NODE_POOLS_RESOURCE_GROUP_ID: rg, CORACLE_NODE_POOLS_SCALE_SET_PREFIX: 'coracle-x-pool-', AZURE_CLIENT_ID: 'c1' }).nodePools)
      .toEqual({ subscriptionId: 's1', resourceGroup: 'rg1', scaleSetPrefix: 'coracle-x-pool-', identity: { clientId: 'c1' } });
    expect(readAppConfig({ CORACLE_NODE_POOLS_RESOURCE_GROUP_ID: rg, CORACLE_NODE_POOLS_SCALE_SET_PREFIX: 'p-', CORACLE_ARM_ENDPOINT: 'https://management.chinacloudapi.cn' }).nodePools?.armEndpoint)
      .toBe('https://management.chinacloudapi.cn');
    expect(readAppConfig({}).nodePools).toBeUndefined();
    expect(() => readAppConfig({ CORACLE_NODE_POOLS_RESOURCE_GROUP_ID: rg })).toThrow('go together');
    expect(() => readAppConfig({ CORACLE_NODE_POOLS_SCALE_SET_PREFIX: 'p-' })).toThrow('go together');
    expect(() => readAppConfig({ CORACLE_NODE_POOLS_RESOURCE_GROUP_ID: 'rg1', CORACLE_NODE_POOLS_SCALE_SET_PREFIX: 'p-' })).toThrow('is not a resource group\'s id');
    expect(() => readAppConfig({ CORACLE_NODE_POOLS_RESOURCE_GROUP_ID: rg, CORACLE_NODE_POOLS_SCALE_SET_PREFIX: 'p-', CORACLE_ARM_ENDPOINT: 'http://arm' })).toThrow('CORACLE_ARM_ENDPOINT');
  });

  test('pod networking: the cluster CIDR and mask size, and the route table by resource id', () => {
    const id = '/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/routeTables/coracle-x-pods';
    const config = readAppConfig({ CORACLE_CLUSTER_CIDR: '10.244.0.0/16', CORACLE_ROUTE_TABLE_ID: id, AZURE_CLIENT_ID: 'c1' });
    expect(config.podNetwork).toEqual({ clusterCIDR: '10.244.0.0/16', nodeMaskSize: 24 });
    expect(config.routeTable).toEqual({ subscriptionId: 's1', resourceGroup: 'rg1', name: 'coracle-x-pods', identity: { clientId: 'c1' } });
    expect(readAppConfig({ CORACLE_CLUSTER_CIDR: '10.244.0.0/14', CORACLE_NODE_CIDR_MASK_SIZE: '25' }).podNetwork?.nodeMaskSize).toBe(25);
    expect(readAppConfig({}).podNetwork).toBeUndefined();
    expect(() => readAppConfig({ CORACLE_ROUTE_TABLE_ID: 'pods' })).toThrow('CORACLE_ROUTE_TABLE_ID');
    expect(() => readAppConfig({ CORACLE_CLUSTER_CIDR: '10.244.0.0/16', CORACLE_NODE_CIDR_MASK_SIZE: 'wide' })).toThrow('CORACLE_NODE_CIDR_MASK_SIZE');
    expect(() => readAppConfig({ CORACLE_CLUSTER_CIDR: '10.244.0.0/16', CORACLE_NODE_CIDR_MASK_SIZE: '12' })).toThrow('must be longer than the cluster CIDR');
    expect(() => readAppConfig({ CORACLE_CLUSTER_CIDR: 'pods' })).toThrow('CORACLE_CLUSTER_CIDR');
  });

  test('a bad setting is an error naming it', () => {
    expect(() => readAppConfig({ CORACLE_NODE_MONITOR_GRACE_SECONDS: 'soon' })).toThrow('CORACLE_NODE_MONITOR_GRACE_SECONDS');
    expect(() => readAppConfig({ CORACLE_DEFAULT_TOLERATION_SECONDS: '-1' })).toThrow('CORACLE_DEFAULT_TOLERATION_SECONDS');
    expect(() => readAppConfig({ CORACLE_MIN_REQUEST_TIMEOUT_SECONDS: '0' })).toThrow('CORACLE_MIN_REQUEST_TIMEOUT_SECONDS');
    expect(() => readAppConfig({ CORACLE_EVENT_TTL_SECONDS: 'an hour' })).toThrow('CORACLE_EVENT_TTL_SECONDS');
    expect(() => readAppConfig({ CORACLE_COMPACTION_INTERVAL_SECONDS: '-5' })).toThrow('CORACLE_COMPACTION_INTERVAL_SECONDS');
    expect(() => readAppConfig({ CORACLE_QUEUE: 'servicebus' })).toThrow('SERVICEBUS_CONNECTION_STRING');
    expect(() => readAppConfig({ COSMOS_DATABASE: 'db', COSMOS_CONNECTION_STRING: 'AccountKey=k==' })).toThrow('COSMOS_ENDPOINT');
  });

  test('Azure without keys: Cosmos DB, Service Bus and Storage signed with the managed identity named by AZURE_CLIENT_ID', () => {
    const settings = { COSMOS_ENDPOINT: 'https://a.documents.azure.com:443/', SERVICEBUS_NAMESPACE: 'sb-coracle', LOGS_BLOB_ENDPOINT: 'https://acct.blob.core.windows.net/', AZURE_CLIENT_ID: 'cid' };
    expect(readStoreConfig(settings)).toMatchObject({ kind: 'cosmos', endpoint: 'https://a.documents.azure.com:443/', key: undefined, identity: { clientId: 'cid' } });
    expect(readQueueConfig(settings)).toEqual({ kind: 'servicebus', namespace: 'sb-coracle.servicebus.windows.net', identity: { clientId: 'cid' } });
    expect(readQueueConfig({ SERVICEBUS_NAMESPACE: 'sb://x.servicebus.windows.net/' })).toEqual({ kind: 'servicebus', namespace: 'x.servicebus.windows.net', identity: { clientId: undefined } });
    expect(readLogsConfig(settings)).toEqual({ accountUrl: 'https://acct.blob.core.windows.net/', identity: { clientId: 'cid' } });
  });
});

describe('encryption and audit settings', () => {
  test('a key file locally, a Key Vault key in Azure, neither: none', () => {
    expect(readEncryptionConfig({ CORACLE_ENCRYPTION_KEY_FILE: '/d/keys.json' })).toEqual({ kind: 'keyfile', file: '/d/keys.json' });
    expect(readEncryptionConfig({ CORACLE_KEYVAULT_KEY_ID: 'https://v.vault.azure.net/keys/k', AZURE_CLIENT_ID: 'c' })).toEqual({ kind: 'keyvault', keyId: 'https://v.vault.azure.net/keys/k', identity: { clientId: 'c' } });
    expect(readEncryptionConfig({})).toBeUndefined();
  });

  test('an audit file with its rotation, or Log Analytics with both its settings', () => {
    expect(readAuditConfig({ CORACLE_AUDIT_LOG: '/d/audit.log', CORACLE_AUDIT_POLICY_FILE: '/d/policy.yaml' })).toEqual({ sink: { kind: 'file', file: '/d/audit.log', maxBytes: 100 * 1024 * 1024, maxBackups: 5 }, policyFile: '/d/policy.yaml' });
    expect(readAuditConfig({ CORACLE_AUDIT_DCE_ENDPOINT: 'https://e', CORACLE_AUDIT_DCR_ID: 'dcr-1' })).toEqual({ sink: { kind: 'loganalytics', endpoint: 'https://e', ruleId: 'dcr-1', stream: 'Custom-CoracleAudit', identity: { clientId: undefined } }, policyFile: undefined });
    expect(() => readAuditConfig({ CORACLE_AUDIT_DCE_ENDPOINT: 'https://e' })).toThrow(/CORACLE_AUDIT_DCR_ID/);
    expect(() => readAuditConfig({ CORACLE_AUDIT_LOG: '/d/a.log', CORACLE_AUDIT_LOG_MAX_BYTES: 'big' })).toThrow('CORACLE_AUDIT_LOG_MAX_BYTES');
    expect(readAuditConfig({})).toBeUndefined();
  });
});

describe('Azure release settings', () => {
  const site = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/coracle-api';
  test('the catalog alone lists releases; with the deployment container and site id the control plane can move', () => {
    expect(readAzureReleasesConfig({})).toBeUndefined();
    expect(readAzureReleasesConfig({ CORACLE_RELEASES_URL: 'https://a.blob.core.windows.net/releases' })).toEqual({ catalogUrl: 'https://a.blob.core.windows.net/releases', deployment: undefined, identity: { clientId: undefined } });
    expect(readAzureReleasesConfig({ CORACLE_RELEASES_URL: 'https://a/releases', CORACLE_DEPLOYMENT_CONTAINER_URL: 'https://a/app-package', CORACLE_SITE_ID: site, AZURE_CLIENT_ID: 'c' }))
      .toEqual({ catalogUrl: 'https://a/releases', deployment: { containerUrl: 'https://a/app-package', siteId: site }, identity: { clientId: 'c' } });
  });

  test('half a deployment, or a deployment without a catalog, is refused naming the settings', () => {
    expect(() => readAzureReleasesConfig({ CORACLE_RELEASES_URL: 'https://a/releases', CORACLE_SITE_ID: site })).toThrow(/CORACLE_DEPLOYMENT_CONTAINER_URL and CORACLE_SITE_ID go together/);
    expect(() => readAzureReleasesConfig({ CORACLE_DEPLOYMENT_CONTAINER_URL: 'https://a/app-package', CORACLE_SITE_ID: site })).toThrow(/need CORACLE_RELEASES_URL/);
  });
});
