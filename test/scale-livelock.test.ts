/**
 * Issue 15, item 1: one valid command must not livelock the control plane. `kubectl scale` of a
 * Deployment from 3 to 3,000 and back to 3, on `coracle up` with 6 hollow nodes of 1,000 pods:
 * throughout, `/readyz` answers 200 within READYZ_BOUND_MS (probed every 250 ms) and every node Lease stays
 * renewed on time (never more than RENEW_LAG_MS behind: the agents renew every 10 s); the
 * namespace is back to 3 pods within SCALE_DOWN_BOUND_MS of the scale-down; and a restart on the
 * same data folder comes back ready and stays healthy (it does not fall into the same loop).
 *
 * Before the fix: deletes went 500 per pass, the garbage collector listed every kind of the
 * namespace per deleted pod on the event loop, and /readyz timed out for minutes.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { clusterRequest, startCluster, startHollowNodes, type Cluster, type HollowNodes } from './support/cluster.js';
import { kubectl } from './support/kubectl.js';

jest.setTimeout(180_000);

const SCALE_UP = 3000;
/** The bound the namespace must converge within after the scale-down (stated, measured 20–50 s here on 2 shared cores). */
const SCALE_DOWN_BOUND_MS = 90_000;
/**
 * How far behind a Lease may be: the 10 s renew period plus 10 s of slack, half the 40 s grace
 * after which the node monitor would mark the node Unknown (the livelock left Leases minutes
 * behind). Seen here: 12.9–14.9 s at worst on 2 shared cores; bench:overload prints the figure.
 */
const RENEW_LAG_MS = 20_000;
/**
 * The livelock showed as /readyz timing out for minutes; this bound catches that without turning
 * a loaded CI machine's scheduling noise into failures. The 1 s target itself is measured, next
 * to its target, by `npm run bench:overload`; the worst figure seen here is printed.
 */
const READYZ_BOUND_MS = 5_000;

let cluster: Cluster;
let nodes: HollowNodes;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 0 });
  nodes = await startHollowNodes(cluster, 6, 1000);
});
afterAll(async () => {
  await nodes?.stop();
  await cluster?.destroy();
});

const get = async (p: string) => {
  const r = await clusterRequest(cluster, p, { token: cluster.token });
  if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${r.body}`);
  return JSON.parse(r.body);
};
const podCount = async () => {
  const list = await get('/api/v1/namespaces/default/pods?limit=1');
  return list.items.length + (list.metadata.remainingItemCount ?? 0);
};

/** Health watches /readyz and the node Leases until stopped, keeping the worst figures. */
function watchHealth() {
  const worst = { readyzMs: 0, readyzFailures: [] as string[], leaseLagMs: 0, laggingLease: '' };
  let stopped = false;
  const readyz = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      const r = await Promise.race([
        clusterRequest(cluster, '/readyz').then((res) => res.status, () => -1),
        new Promise<number>((resolve) => setTimeout(() => resolve(0), 10_000)),
      ]);
      const ms = performance.now() - t0;
      worst.readyzMs = Math.max(worst.readyzMs, ms);
      if (r !== 200 || ms > READYZ_BOUND_MS) worst.readyzFailures.push(`${new Date().toISOString()} status ${r} in ${ms.toFixed(0)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const leases = (async () => {
    while (!stopped) {
      const list = await get('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases').catch(() => undefined);
      const now = Date.now();
      for (const lease of list?.items ?? []) {
        const lag = now - Date.parse(lease.spec.renewTime);
        if (lag > worst.leaseLagMs) Object.assign(worst, { leaseLagMs: lag, laggingLease: lease.metadata.name });
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  return { worst, stop: async () => { stopped = true; await Promise.all([readyz, leases]); } };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('a Deployment scaled up by thousands and back (issue 15)', () => {
  it(`stays healthy and converges back within ${SCALE_DOWN_BOUND_MS / 1000} s; a restart on the same data does not loop`, async () => {
    const k = (...args: string[]) => kubectl(args, { kubeconfig: cluster.kubeconfigPath });
    expect((await k('create', 'deployment', 'web', '--image=busybox', '--replicas=3')).code).toBe(0);
    await until('3 pods', async () => (await podCount()) === 3, 30_000);
    const health = watchHealth();
    try {
      expect((await k('scale', 'deploy', 'web', `--replicas=${SCALE_UP}`)).code).toBe(0);
      await until(`${SCALE_UP} pods`, async () => (await podCount()) >= SCALE_UP, 90_000);
      expect((await k('scale', 'deploy', 'web', '--replicas=3')).code).toBe(0);
      const tookMs = await until('3 pods again', async () => {
        const n = await podCount();
        console.log(`${new Date().toISOString()} pods ${n}`);
        return n === 3;
      }, SCALE_DOWN_BOUND_MS);
      console.log(`scale-down from ${SCALE_UP} to 3 took ${(tookMs / 1000).toFixed(1)} s; worst /readyz ${health.worst.readyzMs.toFixed(0)} ms; worst Lease lag ${health.worst.leaseLagMs} ms`);
    } finally {
      await health.stop();
    }
    expect(health.worst.readyzFailures).toEqual([]);
    expect(health.worst.leaseLagMs).toBeLessThan(RENEW_LAG_MS);
    const rs = (await get('/apis/apps/v1/namespaces/default/replicasets')).items;
    expect(rs.map((r: any) => r.status.replicas)).toEqual([3]);

    // Restart on the same data folder, thousands of Events and history behind: ready, and healthy.
    await cluster.restart();
    const after = watchHealth();
    await new Promise((r) => setTimeout(r, 15_000));
    await after.stop();
    expect(after.worst.readyzFailures).toEqual([]);
    expect(await podCount()).toBe(3);
  });
});
