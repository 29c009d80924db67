/** The simulated runtime: hollow nodes whose pods go Running after a delay, at scale. */
import { describe, expect, it } from '@jest/globals';
import { createSimulatedRuntime } from '../agent/runtime/simulated/index.js';
import type { V1Pod, V1PodStatus } from '../agent/runtime/runtime.js';

function pod(node: string, name: string, uid = `${node}-${name}`): V1Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid },
    spec: { nodeName: node, initContainers: [{ name: 'init', image: 'i' }], containers: [{ name: 'a', image: 'coracle/web:v1' }, { name: 'b', image: 'x' }] },
  };
}

describe('simulated runtime', () => {
  it('runs 1,000 pods across 100 hollow nodes', async () => {
    const running = new Map<string, V1PodStatus>();
    const nodes = Array.from({ length: 100 }, (_, i) => {
      const runtime = createSimulatedRuntime({ nodeName: `hollow-${i}`, startDelayMs: 50, hostIP: `10.0.${i}.1` });
      runtime.onPodStatus((p, status) => {
        if (status.phase === 'Running') running.set(p.metadata!.uid!, status);
      });
      return runtime;
    });
    const started = Date.now();
    await Promise.all(nodes.flatMap((runtime, i) => Array.from({ length: 10 }, (_, j) => runtime.createPod(pod(`hollow-${i}`, `p${j}`)))));
    while (running.size < 1000 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(running.size).toBe(1000);
    const status = running.get('hollow-7-p3')!;
    expect(status.hostIP).toBe('10.0.7.1');
    expect(status.containerStatuses?.map((c) => [c.name, c.ready, !!c.state?.running])).toEqual([['a', true, true], ['b', true, true]]);
    expect(status.initContainerStatuses?.[0].state?.terminated?.reason).toBe('Completed');
    expect(status.conditions?.filter((c) => c.status === 'True').map((c) => c.type).sort()).toEqual(['ContainersReady', 'Initialized', 'PodScheduled', 'Ready']);
    const ips = new Set([...running.values()].map((s) => s.podIP));
    expect(ips.size).toBe(1000);
    expect((await nodes[3].listPods()).map((p) => p.metadata?.name).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9']);
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('gives one hollow node more pods than a /24 holds, each its own address (issue 15: 1,000 pods per node crashed the hollow process in a timer)', async () => {
    const runtime = createSimulatedRuntime({ nodeName: 'big', startDelayMs: 5, podIPPrefix: '10.200.255' });
    const ips = new Map<string, string>();
    runtime.onPodStatus((p, status) => {
      if (status.phase === 'Running') ips.set(p.metadata!.name!, status.podIP!);
    });
    await Promise.all(Array.from({ length: 1000 }, (_, j) => runtime.createPod(pod('big', `p${j}`))));
    const started = Date.now();
    while (ips.size < 1000 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(ips.size).toBe(1000);
    expect(new Set(ips.values()).size).toBe(1000);
    for (const ip of ips.values()) expect(ip).toMatch(/^10\.(200|201)\.\d+\.\d+$/);
    // The range wraps past the third octet: 10.200.255.x then 10.201.0.x, …
    expect([...ips.values()]).toContain('10.201.0.2');
    await runtime.close();
  });

  it('is idempotent on create, replaces a pod with a new uid, and deletes after a delay', async () => {
    const runtime = createSimulatedRuntime({ nodeName: 'n', startDelayMs: 10, deleteDelayMs: 30 });
    const statuses: string[] = [];
    runtime.onPodStatus((p, s) => statuses.push(`${p.metadata?.uid}:${s.phase}`));
    await runtime.createPod(pod('n', 'web', 'u1'));
    await runtime.createPod(pod('n', 'web', 'u1'));
    await new Promise((r) => setTimeout(r, 40));
    expect(statuses).toEqual(['u1:Pending', 'u1:Running']);
    expect((await runtime.getPodStatus('default', 'web'))?.phase).toBe('Running');
    await runtime.createPod(pod('n', 'web', 'u2'));
    expect((await runtime.listPods()).map((p) => p.metadata?.uid)).toEqual(['u2']);
    const t = Date.now();
    await runtime.deletePod(pod('n', 'web', 'u2'));
    expect(Date.now() - t).toBeGreaterThanOrEqual(25);
    expect(await runtime.getPodStatus('default', 'web')).toBeUndefined();
    await runtime.deletePod(pod('n', 'web', 'u2'));
    await runtime.close();
  });

  it('adopts a pod whose hollow containers ran here before the agent restarted: Running at once, same address, never Pending again', async () => {
    const first = createSimulatedRuntime({ nodeName: 'n', startDelayMs: 5 });
    let was: V1PodStatus | undefined;
    first.onPodStatus((_, s) => (was = s));
    await first.createPod(pod('n', 'a', 'ua'));
    await first.createPod(pod('n', 'web', 'u1'));
    await new Promise((r) => setTimeout(r, 30));
    expect(was?.phase).toBe('Running');
    await first.close();

    const again = createSimulatedRuntime({ nodeName: 'n', startDelayMs: 5 });
    const phases: string[] = [];
    again.onPodStatus((p, s) => phases.push(`${p.metadata?.name}:${s.phase}:${s.podIP}`));
    await again.createPod({ ...pod('n', 'web', 'u1'), status: was });
    expect(phases).toEqual([`web:Running:${was!.podIP}`]);
    expect((await again.getPodStatus('default', 'web'))?.containerStatuses?.[0].state?.running?.startedAt).toBe(was!.containerStatuses?.[0].state?.running?.startedAt);
    // Its address stays taken: a new pod gets another one.
    await again.createPod(pod('n', 'other', 'u2'));
    await new Promise((r) => setTimeout(r, 30));
    expect(phases.at(-1)).toMatch(/^other:Running:/);
    expect(phases.at(-1)).not.toBe(`other:Running:${was!.podIP}`);
    // A status from another node (an address outside this node's range) or another pod is not adopted.
    const elsewhere = createSimulatedRuntime({ nodeName: 'm', startDelayMs: 5 });
    const seen: string[] = [];
    elsewhere.onPodStatus((p, s) => seen.push(`${p.metadata?.name}:${s.phase}`));
    await elsewhere.createPod({ ...pod('m', 'web', 'u1'), status: was });
    await elsewhere.createPod({ ...pod('m', 'x', 'u9'), status: was });
    expect(seen).toEqual(['web:Pending', 'x:Pending']);
    await Promise.all([again.close(), elsewhere.close()]);
  });
});
