/**
 * PodWorker drives one pod on the engine, level-triggered like the kubelet's pod worker: each sync
 * observes the pod's containers (by label), takes the next step (sandbox, init containers in
 * order, app containers with restart policy and back-off), then observes again and reports the
 * status if it changed. Syncs of one pod never overlap; a kick during a sync runs another after it.
 */
import type Docker from 'dockerode';
import type { LogSink } from '../../../shared/logs/logsink.js';
import { containerEnv, dockerCommand, EnvError, type EnvSources } from '../env.js';
import { projectedBinds, removePodDirectory, writeProjectedVolumes } from '../projected.js';
import path from 'node:path';
import type { V1Container, V1Pod, V1PodStatus } from '../pod-types.js';
import { assemblePodStatus, pullRetryDelayMs, restartDelayMs, restartPolicyOf, sameStatus, shouldRestart, type BackoffPolicy } from '../podstatus.js';
import type { ClusterDNS } from './dns.js';
import { runPreStopHooks } from './prestop.js';
import { instanceConfig, instanceFromInspect, kubeTime, LABELS, sandboxConfig, type Instance } from './containers.js';
import { ensureImage, ImageError } from './images.js';
import { followContainerLogs } from './logs.js';
import { ProbeLoop, type V1Probe } from './probes.js';
import { containerStatus, newMemo, type ContainerMemo } from './status.js';

/** WorkerContext is what every pod worker of a runtime shares. */
export interface WorkerContext {
  docker: Docker;
  nodeName: string;
  hostIP: string;
  sandboxImage: string;
  /** The cluster DNS pods with dnsPolicy ClusterFirst resolve through (none: the engine's resolver). */
  clusterDNS?: ClusterDNS;
  /** A VM node's pod network (podnet.ts); none: sandboxes join the engine's default bridge. */
  podNetwork?: { network(): Promise<string> };
  /** `name:address` entries every sandbox's /etc/hosts gets (a named API server, agent/apiserver-name.ts). */
  extraHosts?: readonly string[];
  backoff: BackoffPolicy;
  logSink?: LogSink;
  envSources?: EnvSources;
  /** Where pods' projected volumes are written, one folder per pod uid (agent/runtime/projected.ts). */
  volumesDir: string;
  notify(pod: Readonly<V1Pod>, status: V1PodStatus): void;
  log(message: string, err?: unknown): void;
}

/** Observation is the pod's containers in the engine. */
interface Observation {
  sandbox?: Instance;
  /** Instances per container name, newest first. */
  byName: Map<string, Instance[]>;
}

const ignoreGone = (err: unknown) => {
  const code = (err as { statusCode?: number }).statusCode;
  if (code !== 404 && code !== 304 && code !== 409) throw err;
};

/** PodWorker runs one pod (see the file's TSDoc). */
export class PodWorker {
  status?: V1PodStatus;
  private readonly memos = new Map<string, ContainerMemo>();
  private readonly probes = new Map<string, ProbeLoop[]>();
  private readonly shippers = new Map<string, Promise<void>>();
  private readonly logAbort = new AbortController();
  private readonly inspected = new Map<string, Instance>();
  private current?: Promise<void>;
  private dirty = false;
  /** Set when the current sync changed something in the engine (then it observes again). */
  private mutated = false;
  private terminating?: Promise<void>;
  private closed = false;
  /** When the projected volumes must be written (again): 0 until first written; Infinity once written without tokens. */
  private volumesDueMs = 0;
  /** When this worker began: an instance started before it was adopted from an earlier agent. */
  private readonly bornMs = Date.now();

  constructor(private readonly ctx: WorkerContext, public pod: V1Pod) {}

  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  private get podDir(): string {
    return path.join(this.ctx.volumesDir, this.uid);
  }

  /**
   * ensureVolumes writes the pod's projected volumes when first needed and renews them when their
   * tokens are due; false while they have never been written (containers must wait). A failed
   * renewal keeps the old files and is tried again on the next sync.
   */
  private async ensureVolumes(): Promise<boolean> {
    if (Date.now() < this.volumesDueMs) return true;
    try {
      this.volumesDueMs = await writeProjectedVolumes(this.pod, this.ctx.envSources, this.podDir);
      return true;
    } catch (err) {
      if (this.volumesDueMs > 0) {
        this.ctx.log(`renewing the projected volumes of pod ${this.uid} failed`, err);
        return true;
      }
      const waiting = { reason: 'CreateContainerConfigError', message: `projected volume: ${(err as Error).message}` };
      for (const c of [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])]) this.memo(c.name).waiting = waiting;
      return false;
    }
  }

  private memo(name: string): ContainerMemo {
    let memo = this.memos.get(name);
    if (!memo) this.memos.set(name, (memo = newMemo()));
    return memo;
  }

  /** kick asks for a sync; it resolves when no sync is pending. */
  kick(): Promise<void> {
    if (this.current) {
      this.dirty = true;
      return this.current;
    }
    this.current = (async () => {
      do {
        this.dirty = false;
        if (this.terminating || this.closed) break;
        await this.sync().catch((err) => this.ctx.log(`sync of pod ${this.uid} failed`, err));
      } while (this.dirty);
      this.current = undefined;
    })();
    return this.current;
  }

  private async observe(): Promise<Observation> {
    const list = await this.ctx.docker.listContainers({ all: true, filters: { label: [`${LABELS.podUid}=${this.uid}`, `${LABELS.node}=${this.ctx.nodeName}`] } });
    const byName = new Map<string, Instance[]>();
    let sandbox: Instance | undefined;
    for (const summary of list) {
      // A cached inspection holds while the list agrees on running-or-not (exited instances never change).
      let instance = this.inspected.get(summary.Id);
      if (!instance || instance.created || instance.running !== (summary.State === 'running')) {
        const info = await this.ctx.docker.getContainer(summary.Id).inspect().catch(() => undefined);
        if (!info) continue; // removed meanwhile
        instance = instanceFromInspect(info);
        this.inspected.set(summary.Id, instance);
      }
      if (instance.role === 'sandbox') {
        if (!sandbox || instance.running) sandbox = instance;
        continue;
      }
      byName.set(instance.container, [...(byName.get(instance.container) ?? []), instance].sort((a, b) => b.restart - a.restart));
    }
    return { sandbox, byName };
  }

  private async sync(): Promise<void> {
    const before = await this.observe();
    for (const memo of this.memos.values()) memo.waiting = undefined;
    this.mutated = false;
    await this.act(before);
    const after = this.mutated ? await this.observe() : before;
    this.watch(after);
    this.report(after);
  }

  private async act(observed: Observation): Promise<void> {
    let obs = observed;
    if (!obs.sandbox?.running) {
      await this.startSandbox(obs);
      // Go on to the containers in this same sync (not after the engine's start event and another
      // sync): a pod's start is sandbox then containers, and every engine round trip counts.
      obs = await this.observe();
      if (!obs.sandbox?.running) return;
    }
    if (!(await this.ensureVolumes())) return;
    const policy = restartPolicyOf(this.pod);
    for (const spec of this.pod.spec?.initContainers ?? []) {
      const latest = obs.byName.get(spec.name)?.[0];
      if (latest?.running) return;
      if (latest && !latest.created && latest.exitCode === 0) continue;
      if (latest && !latest.created && policy === 'Never') return;
      await this.step(spec, 'init', latest, obs.sandbox);
      return;
    }
    for (const spec of this.pod.spec?.containers ?? []) {
      const latest = obs.byName.get(spec.name)?.[0];
      if (latest?.running) continue;
      const memo = this.memo(spec.name);
      if (latest && !latest.created && !memo.forceRestart && !shouldRestart(policy, latest.exitCode)) continue;
      await this.step(spec, 'app', latest, obs.sandbox);
    }
  }

  /** step starts the container's next instance, unless its back-off has not passed yet. */
  private async step(spec: Readonly<V1Container>, role: 'init' | 'app', latest: Instance | undefined, sandbox: Instance): Promise<void> {
    if (latest?.created) {
      this.mutated = true;
      await this.ctx.docker.getContainer(latest.id).remove({ force: true }).catch(ignoreGone);
      return this.start(spec, role, latest.restart, sandbox);
    }
    if (!latest) return this.start(spec, role, 0, sandbox);
    const memo = this.memo(spec.name);
    const delay = memo.forceRestart ? 0 : restartDelayMs(latest.restart, this.ctx.backoff, latest.finishedMs - latest.startedMs);
    if (Date.now() < latest.finishedMs + delay) {
      memo.waiting = {
        reason: 'CrashLoopBackOff',
        message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${spec.name} pod=${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.uid})`,
      };
      return;
    }
    return this.start(spec, role, latest.restart + 1, sandbox);
  }

  private async start(spec: Readonly<V1Container>, role: 'init' | 'app', restart: number, sandbox: Instance): Promise<void> {
    const memo = this.memo(spec.name);
    if (memo.pullFailures > 0 && Date.now() < memo.lastPullFailureMs + pullRetryDelayMs(memo.pullFailures, this.ctx.backoff)) {
      memo.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${spec.image}"` };
      return;
    }
    try {
      await ensureImage(this.ctx.docker, spec);
      memo.pullFailures = 0;
      const kubernetesService = await this.ctx.envSources?.kubernetesService?.();
      const env = await containerEnv(this.pod, spec, this.ctx.envSources, { podIP: sandbox.ip, hostIP: this.ctx.hostIP, kubernetesService });
      const binds = projectedBinds(this.pod, spec.volumeMounts, this.podDir);
      const config = instanceConfig(this.ctx.nodeName, this.pod, spec, role, restart, sandbox.id, env, dockerCommand(spec, env), binds);
      this.mutated = true;
      const container = await this.ctx.docker.createContainer(config);
      try {
        await container.start();
      } catch (err) {
        memo.waiting = { reason: 'RunContainerError', message: (err as Error).message };
      }
      memo.forceRestart = false;
      await this.pruneOld(spec.name, restart);
    } catch (err) {
      if (err instanceof ImageError) {
        memo.pullFailures++;
        memo.lastPullFailureMs = Date.now();
        memo.waiting = { reason: err.reason, message: err.message };
      } else if (err instanceof EnvError) memo.waiting = { reason: err.reason, message: err.message };
      else memo.waiting = { reason: 'CreateContainerError', message: (err as Error).message };
    }
  }

  /** pruneOld removes instances older than the previous one (the kubelet keeps one dead instance for --previous). */
  private async pruneOld(name: string, restart: number): Promise<void> {
    const old = [...this.inspected.values()].filter((i) => i.container === name && i.restart < restart - 1);
    for (const instance of old) {
      await this.ctx.docker.getContainer(instance.id).remove({ force: true }).catch(ignoreGone);
      this.inspected.delete(instance.id);
    }
  }

  private async startSandbox(obs: Observation): Promise<void> {
    this.mutated = true;
    if (obs.sandbox) {
      // A dead sandbox took the network namespace with it: every container restarts in a new one.
      for (const instances of obs.byName.values()) {
        for (const i of instances.filter((x) => x.running)) await this.ctx.docker.getContainer(i.id).stop({ t: 0 }).catch(ignoreGone);
      }
      await this.ctx.docker.getContainer(obs.sandbox.id).remove({ force: true }).catch(ignoreGone);
    }
    try {
      await ensureImage(this.ctx.docker, { name: 'POD', image: this.ctx.sandboxImage, imagePullPolicy: 'IfNotPresent' });
      const network = await this.ctx.podNetwork?.network();
      const sandbox = await this.ctx.docker.createContainer(sandboxConfig(this.ctx.nodeName, this.pod, this.ctx.sandboxImage, this.ctx.clusterDNS, network, this.ctx.extraHosts));
      await sandbox.start();
    } catch (err) {
      const waiting = { reason: 'ContainerCreating', message: `pod sandbox: ${(err as Error).message}` };
      for (const c of [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])]) this.memo(c.name).waiting = waiting;
    }
  }

  /** watch starts log shipping and probes for instances that have none yet. */
  private watch(obs: Observation): void {
    const present = new Set([...obs.byName.values()].flat().map((i) => i.id));
    if (obs.sandbox) present.add(obs.sandbox.id);
    for (const id of this.shippers.keys()) if (!present.has(id)) this.shippers.delete(id);
    for (const id of this.inspected.keys()) if (!present.has(id)) this.inspected.delete(id);
    for (const instances of obs.byName.values()) {
      for (const instance of instances) if (!instance.created) this.shipLogs(instance);
    }
    for (const spec of this.pod.spec?.containers ?? []) {
      const latest = obs.byName.get(spec.name)?.[0];
      if (latest?.running && this.memo(spec.name).probeInstance !== latest.id) this.startProbes(spec, latest, obs.sandbox?.ip);
    }
  }

  private shipLogs(instance: Instance): void {
    const sink = this.ctx.logSink;
    if (!sink || this.shippers.has(instance.id)) return;
    const m = this.pod.metadata ?? {};
    const stream = { namespace: m.namespace ?? 'default', pod: m.name ?? '', podUid: this.uid, container: instance.container, restart: instance.restart };
    const shipping = followContainerLogs({
      docker: this.ctx.docker, containerId: instance.id, sink, stream, signal: this.logAbort.signal,
      onError: (err) => this.ctx.log(`log append for ${instance.container} failed`, err),
    }).catch((err) => this.ctx.log(`log follow for ${instance.container} failed`, err));
    this.shippers.set(instance.id, shipping);
  }

  private startProbes(spec: Readonly<V1Container>, instance: Instance, podIP: string | undefined): void {
    this.stopProbes(spec.name);
    const memo = this.memo(spec.name);
    memo.probeInstance = instance.id;
    memo.started = !spec.startupProbe;
    const adopted = instance.startedMs < this.bornMs;
    memo.ready = adopted && (spec.readinessProbe || spec.startupProbe) ? undefined : memo.started && !spec.readinessProbe;
    const target = { docker: this.ctx.docker, containerId: instance.id, container: spec, podIP };
    const loops: ProbeLoop[] = [];
    this.probes.set(spec.name, loops);
    const afterStartup = () => {
      if (spec.livenessProbe) loops.push(new ProbeLoop(target, spec.livenessProbe, (ok) => ok || this.kill(spec.name, instance, spec.livenessProbe!), instance.startedMs));
      if (spec.readinessProbe) {
        loops.push(new ProbeLoop(target, spec.readinessProbe, (ok) => {
          memo.ready = ok;
          void this.kick();
        }, instance.startedMs));
      }
    };
    if (!spec.startupProbe) return afterStartup();
    const startup = new ProbeLoop(target, spec.startupProbe, (ok) => {
      if (!ok) return this.kill(spec.name, instance, spec.startupProbe!);
      startup.stop();
      memo.started = true;
      if (!spec.readinessProbe) memo.ready = true; // with one, an adopted instance's stays unknown until its verdict
      afterStartup();
      void this.kick();
    }, instance.startedMs);
    loops.push(startup);
  }

  private stopProbes(name: string): void {
    for (const loop of this.probes.get(name) ?? []) loop.stop();
    this.probes.delete(name);
  }

  /** kill stops an instance whose probe failed; the next sync restarts it per the restart policy. */
  private kill(name: string, instance: Instance, probe: V1Probe): void {
    this.stopProbes(name);
    const grace = probe.terminationGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    void this.ctx.docker.getContainer(instance.id).stop({ t: grace }).catch(ignoreGone)
      .catch((err) => this.ctx.log(`stopping ${name} failed`, err))
      .then(() => this.kick());
  }

  /** restartChanged restarts containers whose image changed (updatePod). */
  async restartChanged(pod: V1Pod): Promise<void> {
    if (this.terminating) return;
    this.pod = pod;
    const obs = await this.observe();
    for (const spec of pod.spec?.containers ?? []) {
      const latest = obs.byName.get(spec.name)?.[0];
      if (!latest || latest.specImage === spec.image) continue;
      this.memo(spec.name).forceRestart = true;
      if (latest.running) {
        this.stopProbes(spec.name);
        await this.ctx.docker.getContainer(latest.id).stop({ t: pod.spec?.terminationGracePeriodSeconds ?? 30 }).catch(ignoreGone);
      }
    }
    await this.kick();
  }

  private report(obs: Observation): void {
    const awaitingVerdict = (this.pod.spec?.containers ?? []).some((c) => {
      const latest = obs.byName.get(c.name)?.[0];
      const memo = this.memos.get(c.name);
      return latest?.running && memo?.probeInstance === latest.id && memo.ready === undefined;
    });
    if (awaitingVerdict) return; // see ContainerMemo.ready
    const initNames = (this.pod.spec?.initContainers ?? []).map((c) => c.name);
    const initPending = initNames.some((n) => {
      const latest = obs.byName.get(n)?.[0];
      return !latest || latest.running || latest.created || latest.exitCode !== 0;
    });
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status = assemblePodStatus({
      pod: this.pod,
      initContainerStatuses: (this.pod.spec?.initContainers ?? []).map((c) => containerStatus(c, obs.byName.get(c.name) ?? [], this.memo(c.name), false)),
      containerStatuses: (this.pod.spec?.containers ?? []).map((c) => containerStatus(c, obs.byName.get(c.name) ?? [], this.memo(c.name), initPending)),
      podIP: obs.sandbox?.running ? obs.sandbox.ip : this.status?.podIP,
      hostIP: this.ctx.hostIP,
      startTime: this.status?.startTime ?? kubeTime(obs.sandbox?.startedAt) ?? now,
      previous: this.status,
      now,
    });
    if (sameStatus(this.status, status)) return;
    this.status = status;
    this.ctx.notify(this.pod, status);
  }

  /**
   * terminate stops the pod: SIGTERM to every container, SIGKILL after `graceSeconds`, a last
   * status, then removes every container, the sandbox and the pod's projected volumes. Idempotent.
   */
  terminate(graceSeconds: number): Promise<void> {
    this.terminating ??= (async () => {
      await this.current;
      for (const name of [...this.probes.keys()]) this.stopProbes(name);
      const obs = await this.observe();
      const running = [...obs.byName.values()].flat().filter((i) => i.running);
      const started = Date.now();
      await runPreStopHooks(this.ctx.docker, this.pod, running, graceSeconds, (m, err) => this.ctx.log(m, err));
      // The hooks spend the grace period, as the kubelet's do: what is left goes to SIGTERM.
      const left = Math.max(0, graceSeconds - Math.ceil((Date.now() - started) / 1000));
      await Promise.all(running.map((i) => this.ctx.docker.getContainer(i.id).stop({ t: left }).catch(ignoreGone)));
      await Promise.race([Promise.all(this.shippers.values()), new Promise((r) => setTimeout(r, 3000))]);
      this.report(await this.observe());
      const all = [...[...obs.byName.values()].flat(), ...(obs.sandbox ? [obs.sandbox] : [])];
      const list = await this.ctx.docker.listContainers({ all: true, filters: { label: [`${LABELS.podUid}=${this.uid}`, `${LABELS.node}=${this.ctx.nodeName}`] } });
      const ids = new Set([...all.map((i) => i.id), ...list.map((c) => c.Id)]);
      await Promise.all([...ids].map((id) => this.ctx.docker.getContainer(id).remove({ force: true, v: true }).catch(ignoreGone)));
      await removePodDirectory(this.podDir);
      this.logAbort.abort();
    })();
    return this.terminating;
  }

  /** close stops probes and log shipping and leaves the containers running (agent restart). */
  close(): void {
    this.closed = true;
    for (const name of [...this.probes.keys()]) this.stopProbes(name);
    this.logAbort.abort();
  }
}
