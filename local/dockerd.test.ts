import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bridgeNameFor, findDockerEngine, pingDocker } from './dockerd.js';

describe('private dockerd helpers', () => {
  it('names a bridge per folder within Linux’s 15 characters', () => {
    const a = bridgeNameFor('/tmp/a');
    expect(a).toMatch(/^crc[0-9a-f]{10}$/);
    expect(bridgeNameFor('/tmp/a/')).toBe(a);
    expect(bridgeNameFor('/tmp/b')).not.toBe(a);
  });

  it('finds no engine behind a socket that does not exist, or a DOCKER_HOST it cannot use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coracle-dockerd-'));
    try {
      expect(await pingDocker(join(dir, 'docker.sock'))).toBe(false);
      expect(await findDockerEngine({ DOCKER_HOST: `unix://${join(dir, 'docker.sock')}` })).toBeUndefined();
      expect(await findDockerEngine({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
