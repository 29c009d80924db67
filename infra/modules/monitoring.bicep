// Telemetry: one Log Analytics workspace (also the node VMs' log destination) and a
// workspace-based Application Insights that accepts only Entra ID-authenticated ingestion.

@description('Azure region.')
param location string

@description('Name stem shared by every resource of this deployment.')
param stem string

@description('Days Log Analytics keeps data (30 is the free retention of the PerGB2018 SKU).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: '${stem}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
    features: { disableLocalAuth: true }
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${stem}-ai'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // The Functions host sends telemetry with its managed identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
    DisableLocalAuth: true
  }
}

@description('Resource id of the Log Analytics workspace.')
output workspaceId string = workspace.id

@description('Name of the Log Analytics workspace.')
output workspaceName string = workspace.name

@description('Name of the Application Insights component.')
output insightsName string = insights.name

@description('Application Insights connection string (an ingestion address, not a credential: local auth is off).')
output insightsConnectionString string = insights.properties.ConnectionString
