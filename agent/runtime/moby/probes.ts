/**
 * Container probes (exec through `docker exec`, httpGet to the pod IP, tcpSocket) and the loop that
 * runs one probe on its schedule for one container instance, counting consecutive results against
 * successThreshold / failureThreshold as the kubelet's prober does.
 */
import type Docker from 'dockerode';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { IProbe as V1Probe } from 'kubernetes-models/v1/Probe';
import type { V1Container } from '../pod-types.js';

export type { V1Probe };

/** ProbeTarget is what a probe runs against. */
export interface ProbeTarget {
  docker: Docker;
  containerId: string;
  container: Readonly<V1Container>;
  podIP?: string;
}

function resolvePort(port: number | string | undefined, container: Readonly<V1Container>): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

async function execProbe(target: ProbeTarget, command: string[], timeoutMs: number): Promise<boolean> {
  const exec = await target.docker.getContainer(target.containerId).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const ended = new Promise<void>((done) => {
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
    stream.resume();
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([ended.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)))]);
  clearTimeout(timer);
  stream.destroy();
  if (timedOut) return false;
  const info = await exec.inspect();
  return info.ExitCode === 0;
}

function httpProbe(target: ProbeTarget, probe: V1Probe, timeoutMs: number): Promise<boolean> {
  const get = probe.httpGet!;
  const port = resolvePort(get.port as number | string, target.container);
  const host = get.host || target.podIP;
  if (!host || !port) return Promise.resolve(false);
  const path = get.path?.startsWith('/') ? get.path : `/${get.path ?? ''}`;
  const headers = Object.fromEntries((get.httpHeaders ?? []).map((h) => [h.name, h.value]));
  const send = get.scheme === 'HTTPS' ? httpsRequest : httpRequest;
  // No keep-alive, as the kubelet's prober: a probe must not hold connections between periods.
  return new Promise((done) => {
    const req = send({ host, port, path, headers, agent: false, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      done((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end();
  });
}

function tcpProbe(target: ProbeTarget, probe: V1Probe, timeoutMs: number): Promise<boolean> {
  const port = resolvePort(probe.tcpSocket!.port as number | string, target.container);
  const host = probe.tcpSocket!.host || target.podIP;
  if (!host || !port) return Promise.resolve(false);
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.on('connect', () => finish(true));
    socket.on('timeout', () => finish(false));
    socket.on('error', () => finish(false));
  });
}

/** runProbe runs a probe once: true on success. gRPC probes are not supported and count as success. */
export async function runProbe(target: ProbeTarget, probe: V1Probe): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec?.command?.length) return await execProbe(target, probe.exec.command, timeoutMs);
    if (probe.httpGet) return await httpProbe(target, probe, timeoutMs);
    if (probe.tcpSocket) return await tcpProbe(target, probe, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/**
 * ProbeLoop runs one probe every periodSeconds after initialDelaySeconds (measured from the
 * instance's start) and reports through `onResult`: success once successThreshold passes in a row
 * are reached, failure on every period once failureThreshold failures in a row are reached.
 */
export class ProbeLoop {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  private result: boolean | undefined;

  constructor(
    private readonly target: ProbeTarget,
    private readonly probe: V1Probe,
    private readonly onResult: (ok: boolean) => void,
    startedMs: number,
    private readonly run: (target: ProbeTarget, probe: V1Probe) => Promise<boolean> = runProbe,
  ) {
    const delay = Math.max(0, startedMs + (probe.initialDelaySeconds ?? 0) * 1000 - Date.now());
    this.timer = setTimeout(() => this.tick(), delay);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const ok = await this.run(this.target, this.probe);
    if (this.stopped) return;
    if (ok) {
      this.successes++;
      this.failures = 0;
    } else {
      this.failures++;
      this.successes = 0;
    }
    if (!ok && this.failures >= (this.probe.failureThreshold ?? 3)) {
      // Every failing period past the threshold is reported: liveness acts on it, readiness stays false.
      this.result = false;
      this.onResult(false);
    } else if (ok && this.successes >= (this.probe.successThreshold ?? 1) && this.result !== true) {
      this.result = true;
      this.onResult(true);
    }
    this.timer = setTimeout(() => this.tick(), (this.probe.periodSeconds ?? 10) * 1000);
  }

  /** stop ends the loop; no result is reported after it. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
