/** StatusReporter: coalescing, skipping unchanged statuses, and retrying failed writes. */
import { describe, expect, it } from '@jest/globals';
import { ApiError } from '../shared/api/status.js';
import type { ApiClient } from '../shared/controllers/client.js';
import type { V1Pod, V1PodStatus } from './runtime/pod-types.js';
import { StatusReporter } from './status.js';

const pod = (name: string): V1Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { nodeName: 'n', containers: [{ name: 'c', image: 'i' }] } });
const running: V1PodStatus = { phase: 'Running', podIP: '10.0.0.2' };
const pending: V1PodStatus = { phase: 'Pending' };

/** fakeClient answers each status patch with the next outcome (an error to throw, else success) and records what was written. */
function fakeClient(outcomes: Array<Error | undefined>) {
  const writes: Array<{ name: string; phase: unknown; at: number }> = [];
  const client = {
    async patch(_r: unknown, ref: { name: string }, body: { status: V1PodStatus }) {
      const outcome = outcomes.shift();
      writes.push({ name: ref.name, phase: body.status.phase, at: Date.now() });
      if (outcome) throw outcome;
      return {};
    },
  } as unknown as ApiClient;
  return { client, writes };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('StatusReporter', () => {
  it('writes only the newest of a burst, and skips a status equal to the one written', async () => {
    const { client, writes } = fakeClient([]);
    const reporter = new StatusReporter(client, '192.0.2.1', () => undefined, 5);
    reporter.report(pod('a'), pending);
    reporter.report(pod('a'), running);
    await sleep(40);
    reporter.report(pod('a'), running);
    await sleep(40);
    reporter.close();
    expect(writes.map((w) => w.phase)).toEqual(['Running']);
  });

  it('retries a write that failed with back-off until it succeeds', async () => {
    const { client, writes } = fakeClient([new Error('socket hang up'), new ApiError(500, 'InternalError', 'store busy')]);
    const logged: string[] = [];
    const reporter = new StatusReporter(client, '192.0.2.1', (m) => logged.push(m), 5);
    reporter.report(pod('a'), running);
    await sleep(200);
    reporter.close();
    expect(writes.map((w) => w.phase)).toEqual(['Running', 'Running', 'Running']);
    // 5 ms doubling: the second retry waits longer than the first.
    expect(writes[2].at - writes[1].at).toBeGreaterThanOrEqual(writes[1].at - writes[0].at);
    expect(logged).toEqual(['status of default/a (attempt 1, retried): socket hang up']);
  });

  it('drops the status of a pod that is gone (404) or replaced (409)', async () => {
    const { client, writes } = fakeClient([new ApiError(404, 'NotFound', 'gone'), new ApiError(409, 'Conflict', 'uid')]);
    const reporter = new StatusReporter(client, '192.0.2.1', () => undefined, 5);
    reporter.report(pod('a'), running);
    reporter.report(pod('b'), running);
    await sleep(100);
    reporter.close();
    expect(writes.map((w) => w.name).sort()).toEqual(['a', 'b']);
  });

  it('writes a newer status instead of retrying an older one', async () => {
    const { client, writes } = fakeClient([new Error('timeout')]);
    const reporter = new StatusReporter(client, '192.0.2.1', () => undefined, 20);
    reporter.report(pod('a'), pending);
    await sleep(30); // the first write failed; its retry waits 40 ms
    reporter.report(pod('a'), running);
    await sleep(150);
    reporter.close();
    expect(writes.map((w) => w.phase)).toEqual(['Pending', 'Running']);
  });
});
