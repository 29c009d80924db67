/**
 * The channel protocol kubectl speaks over a WebSocket for `pods/exec` and `pods/attach`
 * (k8s.io/apimachinery/pkg/util/remotecommand, subprotocols `v4.channel.k8s.io` and
 * `v5.channel.k8s.io`): every binary message is one byte naming the stream, then its payload.
 * Streams: 0 stdin, 1 stdout, 2 stderr, 3 error (a Status when the command ends), 4 resize
 * (`{"Width":w,"Height":h}`). v5 adds message 255 + stream id: "this stream is closed" (how
 * kubectl says stdin reached its end, which `kubectl cp` into a pod depends on).
 */

/** CHANNEL numbers the streams of one exec or attach. */
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** V5_PROTOCOL is the subprotocol with close frames (kubectl v1.30 and later). */
export const V5_PROTOCOL = 'v5.channel.k8s.io';
/** V4_PROTOCOL is the one before it: no close frames, stdin ends when the connection does. */
export const V4_PROTOCOL = 'v4.channel.k8s.io';
/** CHANNEL_PROTOCOLS are the subprotocols served, preferred first (as kube-apiserver prefers v5). */
export const CHANNEL_PROTOCOLS: readonly string[] = [V5_PROTOCOL, V4_PROTOCOL];

/** ChannelMessage is one decoded message: a data frame for a stream, or the close of a stream (v5). */
export type ChannelMessage =
  | { kind: 'data'; channel: number; data: Uint8Array }
  | { kind: 'close'; channel: number };

/** encodeData frames `data` for stream `channel`. */
export function encodeData(channel: number, data: Uint8Array | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(payload.length + 1);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

/** encodeClose is v5's "stream `channel` is closed" message. */
export function encodeClose(channel: number): Buffer {
  return Buffer.from([CHANNEL.close, channel]);
}

/** decodeMessage reads one message; undefined for an empty message (kubectl sends none, but a peer could). */
export function decodeMessage(message: Uint8Array): ChannelMessage | undefined {
  if (message.length === 0) return undefined;
  const channel = message[0]!;
  if (channel === CHANNEL.close) return message.length >= 2 ? { kind: 'close', channel: message[1]! } : undefined;
  return { kind: 'data', channel, data: message.subarray(1) };
}

/** TerminalSize is a resize message's content (remotecommand.TerminalSize). */
export interface TerminalSize {
  width: number;
  height: number;
}

/** parseResize reads a resize message's JSON; undefined when it is not one (a peer's bad frame is ignored, as the kubelet logs and ignores it). */
export function parseResize(data: Uint8Array): TerminalSize | undefined {
  try {
    const value = JSON.parse(Buffer.from(data).toString('utf8')) as { Width?: unknown; Height?: unknown };
    const width = Number(value.Width);
    const height = Number(value.Height);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) return undefined;
    return { width, height };
  } catch {
    return undefined;
  }
}

/** successStatus is what the error stream carries when the command exited 0 (metav1.Status, as the kubelet writes it). */
export function successStatus(): Record<string, unknown> {
  return { metadata: {}, status: 'Success' };
}

/**
 * exitStatus is the error stream's Status for a non-zero exit, as the kubelet writes it
 * (pkg/kubelet/cri/streaming/remotecommand/httpstream.go, writeStatus for an ExitError):
 * kubectl reads the `ExitCode` cause and exits with it.
 */
export function exitStatus(command: readonly string[], exitCode: number): Record<string, unknown> {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** failureStatus is the error stream's Status for a failure that is not an exit code (the command could not start, the container is gone). */
export function failureStatus(message: string, code = 500, reason = 'InternalError'): Record<string, unknown> {
  return { metadata: {}, status: 'Failure', message, reason, code };
}
