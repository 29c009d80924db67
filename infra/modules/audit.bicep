// The audit log's destination in Azure (adapters/audit/loganalytics.ts): a custom table in the
// cluster's Log Analytics workspace, a data collection endpoint and a rule whose stream takes
// audit.k8s.io/v1 Events as they are. The Function App's Monitoring Metrics Publisher role on the
// rule (the only right the Logs Ingestion API needs) is assigned in identity.bicep.

@description('Azure region.')
param location string

@description('Name stem shared by every resource of this deployment.')
param stem string

@description('Name of the Log Analytics workspace.')
param workspaceName string

var stream = 'Custom-CoracleAudit'
var columns = [
  { name: 'TimeGenerated', type: 'datetime' }
  { name: 'kind', type: 'string' }
  { name: 'apiVersion', type: 'string' }
  { name: 'level', type: 'string' }
  { name: 'auditID', type: 'string' }
  { name: 'stage', type: 'string' }
  { name: 'requestURI', type: 'string' }
  { name: 'verb', type: 'string' }
  { name: 'user', type: 'dynamic' }
  { name: 'sourceIPs', type: 'dynamic' }
  { name: 'userAgent', type: 'string' }
  { name: 'objectRef', type: 'dynamic' }
  { name: 'responseStatus', type: 'dynamic' }
  { name: 'requestObject', type: 'dynamic' }
  { name: 'responseObject', type: 'dynamic' }
  { name: 'requestReceivedTimestamp', type: 'datetime' }
  { name: 'stageTimestamp', type: 'datetime' }
  { name: 'annotations', type: 'dynamic' }
]

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = {
  name: workspaceName
}

resource table 'Microsoft.OperationalInsights/workspaces/tables@2025-07-01' = {
  parent: workspace
  name: 'CoracleAudit_CL'
  properties: {
    schema: { name: 'CoracleAudit_CL', columns: columns }
  }
}

resource endpoint 'Microsoft.Insights/dataCollectionEndpoints@2023-03-11' = {
  name: '${stem}-audit-dce'
  location: location
  properties: {
    networkAcls: { publicNetworkAccess: 'Enabled' }
  }
}

resource rule 'Microsoft.Insights/dataCollectionRules@2023-03-11' = {
  name: '${stem}-audit-dcr'
  location: location
  dependsOn: [table]
  properties: {
    dataCollectionEndpointId: endpoint.id
    streamDeclarations: { '${stream}': { columns: columns } }
    destinations: { logAnalytics: [{ name: 'workspace', workspaceResourceId: workspace.id }] }
    dataFlows: [{ streams: [stream], destinations: ['workspace'], transformKql: 'source', outputStream: stream }]
  }
}

@description('Name of the data collection rule (for the role assignment).')
output ruleName string = rule.name

@description('Immutable id of the rule (CORACLE_AUDIT_DCR_ID).')
output ruleId string = rule.properties.immutableId

@description('Logs ingestion endpoint (CORACLE_AUDIT_DCE_ENDPOINT).')
output endpoint string = endpoint.properties.logsIngestion.endpoint

@description('The rule\'s stream (CORACLE_AUDIT_STREAM).')
output stream string = stream
