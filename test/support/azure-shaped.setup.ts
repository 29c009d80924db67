/**
 * Setup of the `e2e-azure-shaped` Jest project (jest.config.js): the suites it names run unchanged
 * against `coracle up --instances 3` (test/support/cluster.ts reads CORACLE_E2E_INSTANCES), with
 * the longer default timeout five host processes need to start. Jest gives each test file its own
 * copy of process.env, so this does not reach the other projects' files.
 */
import { jest } from '@jest/globals';

process.env.CORACLE_E2E_INSTANCES ??= '3';
jest.setTimeout(240_000);
// The setup shares the test file's module registry: the suite's startCluster sees this very value.
const { E2E_INSTANCES } = await import('./cluster.js');
if (!E2E_INSTANCES || E2E_INSTANCES < 2) throw new Error(`e2e-azure-shaped: startCluster would not run --instances (CORACLE_E2E_INSTANCES=${E2E_INSTANCES})`);
