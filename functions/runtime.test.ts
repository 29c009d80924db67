import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openAuditor, openOidcAuthenticator, parseTokenFile, storeFromSettings, tokensFromSettings } from './runtime.js';
import { createCertificateAuthority, createServingCertificate } from '../cli/pki.js';
import { startOidcIssuer } from '../test/support/oidc-issuer.js';

describe('parseTokenFile', () => {
  test('reads Kubernetes static token lines, with quoted groups, skipping blanks and comments', () => {
    const tokens = parseTokenFile('# comment\nt1,alice,1,"system:masters,dev"\n\nt2,bob,2\n', 'tokens.csv');
    expect(tokens.get('t1')).toEqual({ username: 'alice', groups: ['system:masters', 'dev'] });
    expect(tokens.get('t2')).toEqual({ username: 'bob', groups: [] });
    expect(tokens.size).toBe(2);
  });

  test('a line without a user is an error naming the file and line', () => {
    expect(() => parseTokenFile('t1,alice,1\nlonely\n', '/x/tokens.csv')).toThrow('/x/tokens.csv:2');
  });
});

describe('settings', () => {
  test('CORACLE_UP_TOKEN adds coracle up\'s own user, apart from the admin token', async () => {
    const tokens = await tokensFromSettings({ CORACLE_ADMIN_TOKEN: 'abc', CORACLE_UP_TOKEN: 'up' });
    expect(tokens.get('up')).toEqual({ username: 'system:coracle-up', groups: ['system:masters'] });
    expect(tokens.get('abc')).toEqual({ username: 'admin', groups: ['system:masters'] });
  });

  test('CORACLE_ADMIN_TOKEN adds an admin in system:masters', async () => {
    const tokens = await tokensFromSettings({ CORACLE_ADMIN_TOKEN: 'abc' });
    expect(tokens.get('abc')).toEqual({ username: 'admin', groups: ['system:masters'] });
  });

  test('an unreadable token file is an error naming it', async () => {
    await expect(tokensFromSettings({ CORACLE_TOKENS_FILE: '/nonexistent/tokens.csv' })).rejects.toThrow('/nonexistent/tokens.csv');
  });

  test('no store setting, or one not understood, is an error that says what to set', async () => {
    await expect(storeFromSettings({})).rejects.toThrow(/CORACLE_STORE=sqlite/);
    await expect(storeFromSettings({ CORACLE_STORE: 'etcd:x' })).rejects.toThrow(/not understood/);
  });
});

describe('openAuditor', () => {
  test('a policy file that is not a Policy is an error naming it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'coracle-policy-'));
    const policyFile = path.join(dir, 'policy.yaml');
    writeFileSync(policyFile, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Loud\n');
    await expect(openAuditor({ sink: { kind: 'file', file: path.join(dir, 'audit.log'), maxBytes: 1024, maxBackups: 1 }, policyFile })).rejects.toThrow(`${policyFile}: not a usable audit policy: rules[0].level`);
    await expect(openAuditor({ sink: { kind: 'file', file: path.join(dir, 'audit.log'), maxBytes: 1024, maxBackups: 1 }, policyFile: path.join(dir, 'missing.yaml') })).rejects.toThrow('missing.yaml');
  });
});

describe('openOidcAuthenticator', () => {
  test('an issuer with a private CA is reached only with --oidc-ca-file; an unreadable CA file is an error naming it', async () => {
    const ca = createCertificateAuthority('issuer-ca');
    const issuer = await startOidcIssuer({}, { tls: createServingCertificate(ca, ['127.0.0.1']) });
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'coracle-oidc-ca-'));
      const caFile = path.join(dir, 'ca.crt');
      writeFileSync(caFile, ca.cert);
      const token = await issuer.sign({ sub: 'ann' }, { aud: 'api' });
      const trusting = await openOidcAuthenticator({ issuerURL: issuer.url, clientId: 'api', caFile });
      expect(await trusting!(token)).toEqual({ username: `${issuer.url}#ann`, groups: [] });
      const systemRoots = await openOidcAuthenticator({ issuerURL: issuer.url, clientId: 'api' });
      // The issuer's certificate is not trusted: it cannot be reached, so its tokens are refused.
      await expect(Promise.resolve(systemRoots!(token))).rejects.toThrow('oidc: authenticator not initialized');
      await expect(openOidcAuthenticator({ issuerURL: issuer.url, clientId: 'api', caFile: path.join(dir, 'nope.crt') })).rejects.toThrow('nope.crt');
      expect(await openOidcAuthenticator(undefined)).toBeUndefined();
    } finally {
      await issuer.stop();
    }
  }, 30_000); // two RSA keys and a TLS server: slow on a loaded machine
});
