/**
 * Crash safety of the local durable engine: kill -9 of the host in the middle of an orchestration
 * of sequential ~300 ms activities, then a restart on the same data folder: the orchestration
 * resumes from its history and ends with the same output; activities that had completed are not
 * run again, the one in flight may run again (at least once).
 */
import { jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDurableHost, stopDurableHost, waitFor, waitForStatus, webhook, type DurableHostProcess } from './fixtures/durable-app/harness.js';

jest.setTimeout(30_000);

let dataDir: string;
let host: DurableHostProcess | undefined;

beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'coracle-durable-crash-'));
});

afterAll(async () => {
  await stopDurableHost(host);
  rmSync(dataDir, { recursive: true, force: true });
});

/** executions lists the `slow` activity starts recorded for `instanceId`, as step numbers. */
function executions(instanceId: string): number[] {
  let text: string;
  try {
    text = readFileSync(path.join(dataDir, 'executions.log'), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l.startsWith(`${instanceId} `)).map((l) => Number(l.split(' ')[1]));
}

test('kill -9 mid-orchestration, restart: it resumes from history with the same output', async () => {
  host = await startDurableHost(dataDir);
  expect((await webhook(host, 'POST', 'orchestrators/slowChain/crash-1', { steps: 6 })).status).toBe(202);
  // Let a few steps complete, then kill the host while a later one runs.
  await waitFor('step 3 to start', async () => (executions('crash-1').includes(3) ? true : undefined));
  host.child.kill('SIGKILL');
  await host.exited;
  const beforeKill = executions('crash-1');
  expect(Math.max(...beforeKill)).toBeLessThan(6);

  host = await startDurableHost(dataDir);
  const s = await waitForStatus(host, 'crash-1', ['Completed', 'Failed'], 15_000);
  expect(s.runtimeStatus).toBe('Completed');
  expect(s.output).toEqual([1, 4, 9, 16, 25, 36]);

  const all = executions('crash-1');
  for (let step = 1; step <= 6; step++) expect(all).toContain(step);
  // Steps that had finished before the kill (all but the last started) ran exactly once.
  const lastStarted = Math.max(...beforeKill);
  for (let step = 1; step < lastStarted; step++) expect(all.filter((x) => x === step)).toHaveLength(1);
  // Exactly one completion per step in the history, whatever ran twice.
  expect(s.historyEvents!.filter((e) => e.EventType === 'TaskCompleted')).toHaveLength(6);
});
