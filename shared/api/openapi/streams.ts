/**
 * The OpenAPI definitions of the pod stream options (core/v1 PodExecOptions, PodAttachOptions,
 * PodPortForwardOptions: the kinds discovery names for pods/exec, pods/attach and
 * pods/portforward), written here because the generated data holds none of them. Their fields
 * are the query parameters of those subresources, as upstream's types.go documents them.
 */
import type { Schema } from './definitions.js';

const P = 'io.k8s.api.core.v1.';
const str = (description: string): Schema => ({ type: 'string', description });
const bool = (description: string): Schema => ({ type: 'boolean', description });
const common = {
  apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
  kind: str('Kind is a string value representing the REST resource this object represents.'),
};
const streams = {
  container: str('The container in which to run (exec) or to attach to; defaults to the only container if there is only one.'),
  stdin: bool('Redirect the standard input stream of the pod for this call. Defaults to false.'),
  stdout: bool('Redirect the standard output stream of the pod for this call.'),
  stderr: bool('Redirect the standard error stream of the pod for this call.'),
  tty: bool('TTY if true indicates that a tty will be allocated for the call. Defaults to false.'),
};

/** STREAM_DEFINITIONS are the schemas of the pod stream options. */
export const STREAM_DEFINITIONS: Record<string, Schema> = {
  [`${P}PodExecOptions`]: {
    description: 'PodExecOptions is the query options to a Pod\'s remote exec call.', type: 'object', required: ['command'],
    properties: { ...common, ...streams, command: { type: 'array', items: { type: 'string' }, description: 'Command is the remote command to execute. argv array. Not executed within a shell.' } as Schema },
  },
  [`${P}PodAttachOptions`]: {
    description: 'PodAttachOptions is the query options to a Pod\'s remote attach call.', type: 'object',
    properties: { ...common, ...streams },
  },
  [`${P}PodPortForwardOptions`]: {
    description: 'PodPortForwardOptions is the query options to a Pod\'s port forward call when using WebSockets.', type: 'object',
    properties: { ...common, ports: { type: 'array', items: { type: 'integer', format: 'int32' }, description: 'List of ports to forward. Required when using WebSockets.' } as Schema },
  },
};
