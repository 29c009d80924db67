/**
 * preStop hooks, as the kubelet runs them before it sends SIGTERM (pkg/kubelet/lifecycle): each
 * running container's `lifecycle.preStop` — `sleep` (seconds) or `exec` (a command run in the
 * container) — all at once, bounded by the pod's grace period. A failing hook is logged and the
 * stop goes on. This is what gives Services time to stop sending new connections to a pod being
 * deleted before it stops listening.
 */
import type Docker from 'dockerode';
import type { V1Pod } from '../pod-types.js';
import type { Instance } from './containers.js';

async function execHook(docker: Docker, id: string, command: string[]): Promise<void> {
  const exec = await docker.getContainer(id).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
    stream.resume();
  });
}

/** runPreStopHooks runs the preStop hooks of `running` instances of `pod`, waiting at most `graceSeconds`. */
export async function runPreStopHooks(
  docker: Docker, pod: Readonly<V1Pod>, running: readonly Instance[], graceSeconds: number, log: (m: string, err?: unknown) => void,
): Promise<void> {
  const hooks: Promise<void>[] = [];
  for (const instance of running) {
    const spec = pod.spec?.containers?.find((c) => c.name === instance.container);
    const hook = spec?.lifecycle?.preStop;
    if (!hook) continue;
    if (hook.sleep) hooks.push(new Promise((r) => setTimeout(r, Number(hook.sleep!.seconds) * 1000)));
    else if (hook.exec?.command?.length) hooks.push(execHook(docker, instance.id, hook.exec.command).catch((err: unknown) => log(`preStop hook of ${instance.container} failed`, err)));
  }
  if (hooks.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(hooks), new Promise((r) => (timer = setTimeout(r, graceSeconds * 1000)))]);
  clearTimeout(timer);
}
