/**
 * The release catalog with real release packages: two releases built from this source (the
 * installed build, and an `npm pack` of it stamped v1.35.1-coracle by `coracle release pack`),
 * added with `coracle release add`, listed, refused when malformed or duplicated, and a real node
 * agent run from the catalogued release registering with that release's kubeletVersion.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { create } from 'tar';
import { LocalNodeProvider } from '../adapters/nodes/local.js';
import { releaseEntry } from '../local/releases.js';
import { RELEASE_VERSION } from '../shared/release/version.js';
import { CLI, REPO_ROOT, clusterRequest, startCluster, type Cluster } from './support/cluster.js';

const run = promisify(execFile);
const B = 'v1.35.1-coracle';

async function coracle(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('release catalog', () => {
  let work: string;
  let dataDir: string;
  let packageB: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'coracle-releases-'));
    dataDir = path.join(work, 'data');
    const packed = await coracle('release', 'pack', '--release-version', B, '--out', work);
    expect(packed).toMatchObject({ code: 0 });
    packageB = packed.stdout.trim();
  }, 120_000);
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it('adds a packed release, lists it beside the installed one, and runs its own build', async () => {
    expect((await coracle('version')).stdout.trim()).toBe(RELEASE_VERSION);
    const added = await coracle('release', 'add', packageB, '--data-dir', dataDir);
    expect(added.stderr).toBe('');
    expect(added.stdout).toContain(`release ${B} added to the catalog`);
    const listed = (await coracle('release', 'list', '--data-dir', dataDir)).stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 2));
    expect(listed).toEqual([[RELEASE_VERSION, 'installed'], [B, 'catalog']]);
    const entryB = await releaseEntry(dataDir, REPO_ROOT, B);
    expect(entryB.startsWith(path.join(dataDir, 'releases', B))).toBe(true);
    const { stdout } = await run(process.execPath, [entryB, 'version']);
    expect(stdout.trim()).toBe(B);
  }, 60_000);

  it('refuses a duplicate, a tarball that is not a release, one needing other dependencies, and an unknown version', async () => {
    const again = await coracle('release', 'add', packageB, '--data-dir', dataDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`release ${B} is already in the catalog`);
    await writeFile(path.join(work, 'junk.tgz'), 'not a tarball');
    const junk = await coracle('release', 'add', path.join(work, 'junk.tgz'), '--data-dir', dataDir);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toContain('is not a release package');
    const installed = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const odd = path.join(work, 'odd');
    await mkdir(path.join(odd, 'package', 'dist', 'shared', 'release'), { recursive: true });
    await writeFile(path.join(odd, 'package', 'package.json'), JSON.stringify({ name: 'coracle', dependencies: { ...installed.dependencies, 'left-pad': '^1.3.0' } }));
    await writeFile(path.join(odd, 'package', 'dist', 'shared', 'release', 'version.json'), JSON.stringify({ version: 'v1.36.0-coracle' }));
    await create({ gzip: true, file: path.join(work, 'odd.tgz'), cwd: odd }, ['package']);
    const refused = await coracle('release', 'add', path.join(work, 'odd.tgz'), '--data-dir', dataDir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('release v1.36.0-coracle needs other dependencies than those installed (left-pad: absent installed, ^1.3.0 wanted)');
    await expect(releaseEntry(dataDir, REPO_ROOT, 'v1.37.0-coracle')).rejects.toThrow('release v1.37.0-coracle is not in the catalog');
  }, 60_000);

  describe('a node agent run from a catalogued release', () => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await startCluster({ nodes: 0, dataDir });
    }, 60_000);
    afterAll(async () => cluster?.destroy(), 60_000);

    it('registers with that release\'s kubeletVersion, while the API server reports its own', async () => {
      const provider = new LocalNodeProvider({
        server: cluster.url, caFile: path.join(cluster.dataDir, 'ca.crt'), tokenFor: () => cluster.token,
        runtime: 'simulated', useQueue: false, readyTimeoutMs: 30_000, agentCliFor: (v) => releaseEntry(dataDir, REPO_ROOT, v),
      });
      try {
        const a = await provider.add('rel', RELEASE_VERSION);
        const b = await provider.add('rel', B);
        const versionOf = async (name: string) => {
          const got = await clusterRequest(cluster, `/api/v1/nodes/${name}`, { token: cluster.token });
          return (JSON.parse(got.body) as { status: { nodeInfo: { kubeletVersion: string } } }).status.nodeInfo.kubeletVersion;
        };
        expect(await versionOf(a.name)).toBe(RELEASE_VERSION);
        expect(await versionOf(b.name)).toBe(B);
        const version = JSON.parse((await clusterRequest(cluster, '/version', { token: cluster.token })).body) as { gitVersion: string };
        expect(version.gitVersion).toBe(RELEASE_VERSION);
      } finally {
        await provider.close();
      }
    }, 90_000);
  });
});
