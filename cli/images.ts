/**
 * `coracle images build`: builds the sample images of images/ into a Docker engine. No registry is
 * reachable on these machines, so every image starts FROM scratch with Debian's busybox-static,
 * copied into the build context from the host.
 */
import Docker from 'dockerode';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** SampleImage is one image built from a folder of images/ (with optional build arguments). */
export interface SampleImage {
  tag: string;
  folder: string;
  buildArgs?: Record<string, string>;
}

/** SAMPLE_IMAGES lists what `coracle images build` builds, in dependency order (busybox first). */
export const SAMPLE_IMAGES: readonly SampleImage[] = [
  { tag: 'coracle/busybox:latest', folder: 'busybox' },
  { tag: 'coracle/web:v1', folder: 'web', buildArgs: { VERSION: 'v1' } },
  { tag: 'coracle/web:v2', folder: 'web', buildArgs: { VERSION: 'v2' } },
  { tag: 'coracle/crash:latest', folder: 'crash' },
];

/** BUSYBOX_PATHS are where Debian's busybox-static puts its binary. */
const BUSYBOX_PATHS = ['/bin/busybox', '/usr/bin/busybox'];

/** ImageBuildError says why a sample image could not be built. */
export class ImageBuildError extends Error {
  constructor(readonly reason: 'NoBusybox' | 'NoImagesFolder' | 'BuildFailed', message: string) {
    super(message);
    this.name = 'ImageBuildError';
  }
}

/** imagesFolder finds images/ from the source tree (cli/) or the build (dist/cli/). */
export function imagesFolder(): string {
  for (const up of ['../images', '../../images']) {
    const candidate = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(join(candidate, 'busybox', 'Dockerfile'))) return candidate;
  }
  throw new ImageBuildError('NoImagesFolder', 'the images/ folder of the coracle repository was not found');
}

/** buildImageFromContext builds the Dockerfile of folder `context` as `image.tag`; throws ImageBuildError on a failed step. */
export async function buildImageFromContext(docker: Docker, context: string, image: Pick<SampleImage, 'tag' | 'buildArgs'>): Promise<void> {
  const stream = await docker.buildImage(
    { context, src: readdirSync(context) },
    { t: image.tag, buildargs: image.buildArgs ?? {}, rm: true, forcerm: true },
  );
  const events = await new Promise<Array<{ error?: string; errorDetail?: { message?: string } }>>((done, fail) =>
    docker.modem.followProgress(stream, (err: Error | null, output: any[]) => (err ? fail(err) : done(output))),
  );
  const failed = events.find((e) => e.error || e.errorDetail);
  if (failed) throw new ImageBuildError('BuildFailed', `building ${image.tag}: ${failed.error ?? failed.errorDetail?.message}`);
}

/**
 * buildSampleImages builds every image of SAMPLE_IMAGES (or only those whose tag is in `only`)
 * into the engine behind `docker`, and returns the tags built. Each build takes about a second.
 */
export async function buildSampleImages(docker: Docker, only?: readonly string[]): Promise<string[]> {
  const busybox = BUSYBOX_PATHS.find((p) => existsSync(p));
  if (!busybox) throw new ImageBuildError('NoBusybox', 'busybox is not installed (Debian: apt-get install busybox-static)');
  const folder = imagesFolder();
  const built: string[] = [];
  for (const image of SAMPLE_IMAGES) {
    if (only && !only.includes(image.tag)) continue;
    const context = mkdtempSync(join(tmpdir(), 'coracle-image-'));
    try {
      cpSync(join(folder, image.folder), context, { recursive: true });
      copyFileSync(busybox, join(context, 'busybox'));
      await buildImageFromContext(docker, context, image);
      built.push(image.tag);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  }
  return built;
}

/** SampleImagesResult says which sample images an engine lacked and were built. */
export interface SampleImagesResult {
  built: string[];
  /** Why nothing could be built (images stay missing), e.g. busybox-static not installed. */
  error?: ImageBuildError;
}

/**
 * ensureSampleImages builds the sample images the engine behind `docker` lacks (all of them when
 * the base `coracle/busybox` is missing, since the others build FROM it) and returns what it
 * built. A build failure is returned, not thrown: a cluster without sample images still runs.
 */
export async function ensureSampleImages(docker: Docker): Promise<SampleImagesResult> {
  const present = new Set((await docker.listImages()).flatMap((i) => i.RepoTags ?? []));
  const missing = SAMPLE_IMAGES.map((i) => i.tag).filter((t) => !present.has(t));
  if (missing.length === 0) return { built: [] };
  try {
    return { built: await buildSampleImages(docker, missing.includes(SAMPLE_IMAGES[0].tag) ? undefined : missing) };
  } catch (err) {
    if (err instanceof ImageBuildError) return { built: [], error: err };
    throw err;
  }
}

/** dockerFor connects to `unix:///path` or a socket path (default: DOCKER_HOST, else /var/run/docker.sock). */
export function dockerFor(host: string | undefined = process.env.DOCKER_HOST): Docker {
  const socketPath = host ? host.replace(/^unix:\/\//, '') : '/var/run/docker.sock';
  return new Docker({ socketPath });
}

/** runImagesBuild is the `coracle images build` action: builds and prints each tag. */
export async function runImagesBuild(options: { dockerHost?: string }): Promise<void> {
  const tags = await buildSampleImages(dockerFor(options.dockerHost));
  for (const tag of tags) process.stdout.write(`built ${tag}\n`);
}
