import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { rootCertificates } from 'node:tls';
import { checkCaBundle, podTrustBundle } from './pod-trust.js';
import { readAppConfig } from './config.js';

const [rootA, rootB] = rootCertificates as [string, string];
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pod-trust-'));
  await writeFile(path.join(dir, 'ca.crt'), rootB);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('podTrustBundle', () => {
  it('is the configured bundle first, whatever else there is', async () => {
    expect(await podTrustBundle({ bundle: `# ours\n${rootA}\n`, dataDir: dir })).toBe(`${rootA}\n`);
  });

  it('is the cluster CA of the data folder locally, and nothing while it cannot be read', async () => {
    expect(await podTrustBundle({ dataDir: dir })).toBe(rootB);
    expect(await podTrustBundle({ dataDir: path.join(dir, 'missing') })).toBeUndefined();
  });

  it('is the public roots Node ships on Azure (no data folder, no bundle)', async () => {
    expect(await podTrustBundle({ publicRoots: [rootA, rootB] })).toBe(`${rootA}\n${rootB}\n`);
    const shipped = await podTrustBundle({});
    expect(shipped!.match(/BEGIN CERTIFICATE/g)).toHaveLength(rootCertificates.length);
  });
});

describe('CORACLE_API_CA_BUNDLE', () => {
  it('keeps every certificate of a bundle and drops what lies between', () => {
    expect(checkCaBundle(`subject=A\n${rootA}\nsubject=B\n${rootB}`)).toBe(`${rootA}\n${rootB}\n`);
  });

  it('refuses a bundle without a certificate, or with one that does not parse, at configuration', () => {
    expect(() => checkCaBundle('not a certificate')).toThrow('CORACLE_API_CA_BUNDLE holds no PEM certificate');
    expect(() => readAppConfig({ CORACLE_API_CA_BUNDLE: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' })).toThrow('CORACLE_API_CA_BUNDLE: certificate 1 does not parse');
    expect(readAppConfig({ CORACLE_API_CA_BUNDLE: rootA }).apiCaBundle).toBe(`${rootA}\n`);
    expect(readAppConfig({ CORACLE_API_CA_BUNDLE: '' }).apiCaBundle).toBeUndefined();
  });
});
