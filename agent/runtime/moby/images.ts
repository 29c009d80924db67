/** Image presence and pulls with Kubernetes' imagePullPolicy. */
import type Docker from 'dockerode';
import type { V1Container } from '../pod-types.js';

/** ImageError is a failed image step; reason is the container's waiting reason. */
export class ImageError extends Error {
  constructor(readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName', message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

/** pullPolicyOf applies Kubernetes' default: Always for :latest or no tag, else IfNotPresent. */
export function pullPolicyOf(container: Readonly<V1Container>): 'Always' | 'IfNotPresent' | 'Never' {
  if (container.imagePullPolicy) return container.imagePullPolicy as 'Always' | 'IfNotPresent' | 'Never';
  const image = container.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

async function pull(docker: Docker, image: string): Promise<void> {
  const stream = await docker.pull(image);
  const events = await new Promise<Array<{ error?: string }>>((done, fail) =>
    docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => (err ? fail(err) : done(output))),
  );
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(failed.error);
}

/**
 * ensureImage makes the container's image available per its pull policy and returns the policy
 * applied. Always tries a pull but falls back to a local copy when the pull fails (no registry is
 * reachable on these machines, and Kubernetes defaults :latest images to Always). Throws ImageError.
 */
export async function ensureImage(docker: Docker, container: Readonly<V1Container>): Promise<void> {
  const image = container.image;
  if (!image) throw new ImageError('InvalidImageName', `container ${container.name} has no image`);
  const policy = pullPolicyOf(container);
  const present = await imagePresent(docker, image);
  if (policy === 'Never') {
    if (!present) throw new ImageError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
    return;
  }
  if (policy === 'IfNotPresent' && present) return;
  try {
    await pull(docker, image);
  } catch (err) {
    if (present) return;
    throw new ImageError('ErrImagePull', `Failed to pull image "${image}": ${(err as Error).message}`);
  }
}
