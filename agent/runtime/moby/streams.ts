/**
 * exec and attach in the moby runtime, through Docker's exec and attach APIs over a hijacked
 * connection: stdin is piped in and half-closed when the client's stdin ends (how a command
 * reading stdin, such as `tar` under `kubectl cp`, sees its end of input); output is demultiplexed
 * into stdout and stderr unless a pseudo-terminal merges them; terminal resizes go to the exec
 * (or the container) once it has started.
 */
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import { RuntimeError, type ContainerStreamIO, type ContainerStreamRequest } from '../runtime.js';
import { LABELS } from './containers.js';

/** runningContainer finds the running instance of the requested container, or throws NotFound as the kubelet words it. */
async function runningContainer(docker: Docker, nodeName: string, request: ContainerStreamRequest): Promise<Docker.Container> {
  const found = await docker.listContainers({ filters: { status: ['running'], label: [
    `${LABELS.node}=${nodeName}`, `${LABELS.podUid}=${request.podUid}`, `${LABELS.container}=${request.container}`, `${LABELS.role}=app`,
  ] } });
  const newest = found.sort((a, b) => Number(b.Labels[LABELS.restart] ?? 0) - Number(a.Labels[LABELS.restart] ?? 0))[0];
  if (!newest) throw new RuntimeError('NotFound', `container not found ("${request.container}")`);
  return docker.getContainer(newest.Id);
}

/** pipeOutput sends a hijacked stream's output to the client's ends and resolves once it has ended. */
async function pipeOutput(docker: Docker, stream: Duplex, request: ContainerStreamRequest, io: ContainerStreamIO): Promise<void> {
  const done = finished(stream, { writable: false }).catch(() => undefined);
  if (request.tty) stream.on('data', (chunk: Buffer) => io.stdout?.write(chunk));
  else docker.modem.demuxStream(stream, io.stdout ?? discard(), io.stderr ?? discard());
  await done;
}

/** discard is a sink for output nobody asked for. */
function discard(): NodeJS.WritableStream {
  return { write: () => true } as unknown as NodeJS.WritableStream;
}

/** feedStdin pipes the client's stdin into the hijacked stream and half-closes it at its end. */
function feedStdin(stream: Duplex, io: ContainerStreamIO): void {
  if (!io.stdin) return;
  io.stdin.on('data', (chunk: Buffer) => {
    if (!stream.write(chunk)) io.stdin!.pause();
  });
  stream.on('drain', () => io.stdin!.resume());
  io.stdin.once('end', () => stream.end());
}

/** execInContainer is the moby runtime's StreamProvider.exec. */
export async function execInContainer(docker: Docker, nodeName: string, request: ContainerStreamRequest, io: ContainerStreamIO): Promise<number> {
  const container = await runningContainer(docker, nodeName, request);
  const exec = await container.exec({
    Cmd: [...(request.command ?? [])], Tty: request.tty,
    AttachStdin: io.stdin !== undefined, AttachStdout: io.stdout !== undefined, AttachStderr: io.stderr !== undefined,
  });
  const stream = await exec.start({ hijack: true, stdin: io.stdin !== undefined, Tty: request.tty });
  const resize = (size: { width: number; height: number }) => void exec.resize({ w: size.width, h: size.height }).catch(() => undefined);
  io.onResize(resize);
  feedStdin(stream, io);
  await pipeOutput(docker, stream, request, io);
  const info = await exec.inspect();
  return info.ExitCode ?? 0;
}

/** attachToContainer is the moby runtime's StreamProvider.attach: it ends when the container's output ends or `signal` aborts. */
export async function attachToContainer(docker: Docker, nodeName: string, request: ContainerStreamRequest, io: ContainerStreamIO, signal: AbortSignal): Promise<void> {
  const container = await runningContainer(docker, nodeName, request);
  const stream = (await container.attach({ stream: true, hijack: true, stdin: io.stdin !== undefined, stdout: io.stdout !== undefined, stderr: io.stderr !== undefined })) as unknown as Duplex;
  io.onResize((size) => void container.resize({ w: size.width, h: size.height }).catch(() => undefined));
  // Detaching must not end the container's stdin: the client's stdin end is not forwarded, only its
  // leaving — unless the container is stdinOnce (the engine's StdinOnce), whose stdin closes with
  // its first attached client's, as the kubelet closes it upstream.
  if (io.stdin) {
    io.stdin.on('data', (chunk: Buffer) => stream.write(chunk));
    if ((await container.inspect()).Config.StdinOnce) io.stdin.once('end', () => stream.end());
  }
  const onAbort = () => stream.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await pipeOutput(docker, stream, request, io);
  } finally {
    signal.removeEventListener('abort', onAbort);
    stream.destroy();
  }
}
