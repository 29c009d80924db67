import { jest } from '@jest/globals';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execCredential, getToken, getTokenArgs } from './get-token.js';
import { startOidcIssuer, type TestIssuer } from '../test/support/oidc-issuer.js';
import { writeFile } from 'node:fs/promises';
import { createCertificateAuthority, createServingCertificate } from './pki.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-get-token-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the ExecCredential is client.authentication.k8s.io/v1 with the token and an RFC 3339 expiry', () => {
  expect(execCredential({ token: 't', expiresAt: new Date('2026-12-07T02:00:00.123Z') })).toEqual({
    kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1', spec: { interactive: false },
    status: { token: 't', expirationTimestamp: '2026-12-07T02:00:00Z' },
  });
});

test('the exec entry\'s arguments reproduce the options, without the secret', () => {
  expect(getTokenArgs({ issuerUrl: 'https://issuer', clientId: 'robot', clientSecret: 's3cret', scope: 'api/.default' }))
    .toEqual(['get-token', '--client-id=robot', '--issuer-url=https://issuer', '--scope=api/.default']);
  expect(getTokenArgs({ azure: true, clientId: 'api-app', login: 'default', tenantId: 't1' }))
    .toEqual(['get-token', '--client-id=api-app', '--azure', '--login=default', '--tenant-id=t1']);
});

describe('client credentials against an issuer', () => {
  let issuer: TestIssuer;
  let shortLived: TestIssuer;
  beforeAll(async () => {
    const clients = { robot: { secret: 's3cret', claims: { sub: 'robot' } } };
    [issuer, shortLived] = await Promise.all([startOidcIssuer(clients), startOidcIssuer(clients, { tokenTtlSeconds: 30 })]);
  });
  afterAll(async () => {
    await Promise.all([issuer.stop(), shortLived.stop()]);
  });

  test('a token is cached (owner-only file) and reused until a minute before it expires', async () => {
    const o = { issuerUrl: issuer.url, clientId: 'robot', clientSecret: 's3cret', scope: 'api/.default', tokenCacheDir: dir };
    const first = await getToken(o);
    expect(JSON.parse(Buffer.from(first.token.split('.')[1]!, 'base64url').toString())).toMatchObject({ aud: 'api', sub: 'robot', iss: issuer.url });
    expect(await getToken(o)).toEqual(first);
    expect(issuer.issued()).toBe(1);
    const [file] = (await import('node:fs')).readdirSync(dir);
    expect((await stat(path.join(dir, file!))).mode & 0o777).toBe(0o600);
    // Within a minute of its expiry, the cached token is not used.
    await getToken(o, first.expiresAt.getTime() - 30_000);
    expect(issuer.issued()).toBe(2);
    const short = { ...o, issuerUrl: shortLived.url };
    await getToken(short);
    await getToken(short);
    expect(shortLived.issued()).toBe(2);
  });

  test('a wrong secret or no secret fails, saying why', async () => {
    await expect(getToken({ issuerUrl: issuer.url, clientId: 'robot', clientSecret: 'wrong', tokenCacheDir: dir })).rejects.toThrow(/invalid_client/);
    await expect(getToken({ issuerUrl: issuer.url, clientId: 'robot', tokenCacheDir: dir })).rejects.toThrow(/client secret/);
    await expect(getToken({ clientId: 'robot', tokenCacheDir: dir })).rejects.toThrow(/--issuer-url.*--azure/);
  });
});

// The private CA and the issuer's serving key are RSA keys made in JavaScript: seconds on a busy 2-core machine.
jest.setTimeout(30_000);

test('an issuer with a private CA: trusted with --certificate-authority, refused without', async () => {
  const ca = createCertificateAuthority('issuer-ca');
  const issuer = await startOidcIssuer({ robot: { secret: 's3cret', claims: { sub: 'robot' } } }, { tls: createServingCertificate(ca, ['127.0.0.1']) });
  try {
    const caFile = path.join(dir, 'ca.crt');
    await writeFile(caFile, ca.cert);
    const o = { issuerUrl: issuer.url, clientId: 'robot', clientSecret: 's3cret', tokenCacheDir: path.join(dir, 'cache') };
    await expect(getToken(o)).rejects.toThrow(issuer.url);
    expect((await getToken({ ...o, certificateAuthority: caFile })).token.split('.')).toHaveLength(3);
  } finally {
    await issuer.stop();
  }
});
