/**
 * Container usage from the Docker engine's stats API (`GET /containers/<id>/stats?stream=false&
 * one-shot=true`, API 1.41): one reading per running app container of this node, without the
 * engine's own one-second wait for a second sample — the agent computes rates between its own
 * readings (agent/metrics.ts). CPU is the cgroup's cumulative `cpu_usage.total_usage` in
 * nanoseconds; memory is the working set as the kubelet (cAdvisor) counts it: usage less inactive
 * file pages (`total_inactive_file` on cgroup v1, `inactive_file` on v2), never below zero.
 * Sandbox containers are left out (the pause container is not one of the pod's containers).
 */
import type Docker from 'dockerode';
import type { ContainerStats } from '../runtime.js';
import { LABELS } from './containers.js';

/** DockerStats is the part of the engine's stats answer read here. */
export interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/** workingSetBytes is the memory working set of a stats answer (see the file comment). */
export function workingSetBytes(memory: DockerStats['memory_stats']): number {
  const usage = memory?.usage ?? 0;
  const inactive = memory?.stats?.total_inactive_file ?? memory?.stats?.inactive_file ?? 0;
  return Math.max(0, usage - inactive);
}

/** statsFromDocker turns one container's stats answer into a reading; undefined when it holds no CPU counter (a stopped container). */
export function statsFromDocker(summary: Pick<Docker.ContainerInfo, 'Id' | 'Labels' | 'Created'>, stats: DockerStats, fallbackNowMs: number): ContainerStats | undefined {
  const total = stats.cpu_stats?.cpu_usage?.total_usage;
  if (typeof total !== 'number') return undefined;
  const labels = summary.Labels ?? {};
  const read = stats.read ? Date.parse(stats.read) : NaN;
  return {
    namespace: labels[LABELS.podNamespace] ?? '', podName: labels[LABELS.podName] ?? '', podUid: labels[LABELS.podUid] ?? '',
    container: labels[LABELS.container] ?? '', instanceId: summary.Id, startedAtMs: summary.Created * 1000,
    cpuUsageNanoSeconds: total, memoryWorkingSetBytes: workingSetBytes(stats.memory_stats),
    atMs: Number.isFinite(read) && read > 0 ? read : fallbackNowMs,
  };
}

/** readContainerStats reads every running app container of `nodeName` (in parallel); a container gone meanwhile is skipped. */
export async function readContainerStats(docker: Docker, nodeName: string): Promise<ContainerStats[]> {
  const running = await docker.listContainers({ filters: { label: [`${LABELS.node}=${nodeName}`, `${LABELS.role}=app`], status: ['running'] } });
  const read = await Promise.all(running.map(async (summary) => {
    try {
      const stats: DockerStats = await docker.getContainer(summary.Id).stats({ stream: false, 'one-shot': true });
      return statsFromDocker(summary, stats, Date.now());
    } catch {
      return undefined; // removed or stopped between the list and the read
    }
  }));
  return read.filter((s): s is ContainerStats => s !== undefined);
}
