/**
 * The Log Analytics audit sink against a real workspace: set CORACLE_TEST_AUDIT_DCE_ENDPOINT,
 * CORACLE_TEST_AUDIT_DCR_ID and CORACLE_TEST_AUDIT_STREAM (a data collection rule whose stream
 * takes the audit Event's columns) and credentials DefaultAzureCredential finds. It checks that an
 * upload is accepted (a query back needs a workspace id and minutes of ingestion delay). Without
 * the settings the suite is skipped, and says so.
 */
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { logAnalyticsAuditSink } from '../adapters/audit/loganalytics.js';
import { azureCredential } from '../adapters/identity.js';

const endpoint = process.env.CORACLE_TEST_AUDIT_DCE_ENDPOINT;
const ruleId = process.env.CORACLE_TEST_AUDIT_DCR_ID;
const stream = process.env.CORACLE_TEST_AUDIT_STREAM;

if (endpoint && ruleId && stream) {
  describe('Log Analytics audit sink', () => {
    it('uploads a batch without a failure', async () => {
      const warn = console.warn;
      const warnings: string[] = [];
      console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
      try {
        const sink = logAnalyticsAuditSink({ endpoint, ruleId, stream, credential: await azureCredential({ clientId: process.env.AZURE_CLIENT_ID }) });
        const now = new Date().toISOString();
        sink.write({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: randomUUID(), stage: 'ResponseComplete', requestURI: '/api/v1/namespaces', verb: 'list', user: { username: 'contract-test' }, sourceIPs: [], requestReceivedTimestamp: now, stageTimestamp: now });
        await sink.close();
      } finally {
        console.warn = warn;
      }
      expect(warnings).toEqual([]);
    });
  });
} else {
  console.warn('Log Analytics audit sink contract skipped: CORACLE_TEST_AUDIT_DCE_ENDPOINT, CORACLE_TEST_AUDIT_DCR_ID and CORACLE_TEST_AUDIT_STREAM are not set');
  describe.skip('Log Analytics audit sink (skipped: CORACLE_TEST_AUDIT_DCE_ENDPOINT, CORACLE_TEST_AUDIT_DCR_ID, CORACLE_TEST_AUDIT_STREAM not set)', () => {
    it('uploads audit events to a real workspace', () => undefined);
  });
}
