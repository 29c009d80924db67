import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { mkdir, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { controlPlaneRelease, keepInstalledRelease, localControlPlaneHost, recordControlPlaneRelease, releaseToRun } from './control-plane.js';
import { RELEASE_VERSION } from '../shared/release/version.js';

const dirs: string[] = [];
const temp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'coracle-cp-'));
  dirs.push(d);
  return d;
};
/** aBuild makes a package root stamped `version` (what listReleases reads of a build). */
const aBuild = async (root: string, version: string) => {
  await mkdir(path.join(root, 'dist', 'shared', 'release'), { recursive: true });
  await writeFile(path.join(root, 'dist', 'shared', 'release', 'version.json'), JSON.stringify({ version }));
  return root;
};
afterEach(async () => {
  jest.useRealTimers();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('the release a local control plane runs', () => {
  it('is none until one is recorded, then the recorded one; a bad record is an error naming the file', async () => {
    const data = await temp();
    expect(await controlPlaneRelease(data)).toBeUndefined();
    await recordControlPlaneRelease(data, 'v1.35.1-coracle');
    expect(await controlPlaneRelease(data)).toBe('v1.35.1-coracle');
    await writeFile(path.join(data, 'control-plane.json'), '{"version":"latest"}');
    await expect(controlPlaneRelease(data)).rejects.toThrow(`${path.join(data, 'control-plane.json')} names no release version`);
  });

  it('keeps the running build in the catalog, so that it can still be run once another release is installed', async () => {
    const data = await temp();
    const installed = await aBuild(await temp(), RELEASE_VERSION);
    await keepInstalledRelease(data, installed, RELEASE_VERSION);
    await keepInstalledRelease(data, installed, RELEASE_VERSION); // again: no error
    expect(await readlink(path.join(data, 'releases', RELEASE_VERSION, 'package'))).toBe(installed);
    // Seen from another release's build, the first one is a catalog entry.
    const other = await aBuild(await temp(), 'v1.35.1-coracle');
    expect(await releaseToRun(data, other, RELEASE_VERSION)).toEqual({ version: RELEASE_VERSION, root: path.join(data, 'releases', RELEASE_VERSION, 'package'), cli: path.join(data, 'releases', RELEASE_VERSION, 'package', 'dist', 'cli', 'coracle.js') });
  });
});

describe('localControlPlaneHost', () => {
  it('runs this build; a move records the release and hands over once, after the step had time to answer', async () => {
    const data = await temp();
    const installed = await aBuild(await temp(), RELEASE_VERSION);
    await aBuild(path.join(data, 'releases', 'v1.35.1-coracle', 'package'), 'v1.35.1-coracle');
    const handOver = jest.fn();
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const host = localControlPlaneHost(data, installed, handOver);
    expect(await host.running()).toBe(RELEASE_VERSION);
    await host.moveTo('v1.35.1-coracle');
    await host.moveTo('v1.35.1-coracle');
    expect(await controlPlaneRelease(data)).toBe('v1.35.1-coracle');
    expect(handOver).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1_000);
    expect(handOver).toHaveBeenCalledTimes(1);
    expect(handOver.mock.calls[0]![0]).toMatchObject({ version: 'v1.35.1-coracle', root: path.join(data, 'releases', 'v1.35.1-coracle', 'package') });
    // Still this build until the handover's new process answers.
    expect(await host.running()).toBe(RELEASE_VERSION);
  });

  it('refuses a release that is not in the catalog, and records nothing', async () => {
    const data = await temp();
    const host = localControlPlaneHost(data, await aBuild(await temp(), RELEASE_VERSION), () => undefined);
    await expect(host.moveTo('v1.35.9-coracle')).rejects.toThrow('release v1.35.9-coracle is not in the catalog');
    expect(await controlPlaneRelease(data)).toBeUndefined();
  });
});
