import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, type Harness } from '../../test/support/apiserver.js';
import { bootstrapTokenSecret, generateBootstrapToken, hashSecret, issueNodeCredential, storeTokenAuthenticator, BOOTSTRAP_TOKEN_PATTERN } from './tokens.js';

let h: Harness;
let clock = Date.parse('2026-12-05T12:00:00Z');
const authenticate = () => storeTokenAuthenticator(h.store, () => new Date(clock));
const SECRETS = '/api/v1/namespaces/kube-system/secrets';

beforeAll(async () => {
  h = await startApiServer();
});
afterAll(async () => {
  await h.close();
});

describe('bootstrap tokens', () => {
  it('are generated in kubeadm\'s format and stored without their secret', () => {
    const token = generateBootstrapToken();
    expect(token).toMatch(BOOTSTRAP_TOKEN_PATTERN);
    const secret = bootstrapTokenSecret({ token, expiration: new Date(clock + 60_000) });
    expect(JSON.stringify(secret)).not.toContain(Buffer.from(token.split('.')[1]!).toString('base64'));
    expect(Buffer.from((secret.data as Record<string, string>)['token-secret-hash']!, 'base64').toString()).toBe(hashSecret(token.split('.')[1]!));
    expect(() => bootstrapTokenSecret({ token: 'ABCDEF.0123456789abcdef' })).toThrow('[a-z0-9]{6}');
    expect(() => bootstrapTokenSecret({ token, extraGroups: ['system:masters'] })).toThrow('system:bootstrappers:');
  });

  it('authenticate as system:bootstrap:<id> until they expire; a wrong secret or a deleted Secret is unknown', async () => {
    const token = 'abcdef.0123456789abcdef';
    const res = await h.json('POST', SECRETS, bootstrapTokenSecret({ token, expiration: new Date(clock + 60_000), extraGroups: ['system:bootstrappers:pool-a'] }));
    expect(res.status).toBe(201);
    expect(await authenticate()(token)).toEqual({ username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:pool-a'] });
    expect(await authenticate()('abcdef.0123456789abcdeg')).toBeUndefined();
    clock += 60_000;
    expect(await authenticate()(token)).toBeUndefined();
    clock -= 60_000;
    expect((await h.json('DELETE', `${SECRETS}/bootstrap-token-abcdef`)).status).toBe(200);
    expect(await authenticate()(token)).toBeUndefined();
  });

  it('a Secret of another type with the same name does not authenticate', async () => {
    const token = 'zzzzzz.0123456789abcdef';
    const secret = bootstrapTokenSecret({ token });
    expect((await h.json('POST', SECRETS, { ...secret, type: 'Opaque' })).status).toBe(201);
    expect(await authenticate()(token)).toBeUndefined();
  });
});

describe('node credentials', () => {
  it('authenticate as system:node:<name>; issuing again replaces the old one', async () => {
    const first = await issueNodeCredential(h.store, 'n1', 'system:bootstrap:abcdef', new Date(clock));
    expect(await authenticate()(first)).toEqual({ username: 'system:node:n1', groups: ['system:nodes'] });
    const second = await issueNodeCredential(h.store, 'n1', 'system:bootstrap:abcdef', new Date(clock));
    expect(await authenticate()(first)).toBeUndefined();
    expect(await authenticate()(second)).toEqual({ username: 'system:node:n1', groups: ['system:nodes'] });
    // A token naming another node with n1's secret is unknown.
    expect(await authenticate()(second.replace('node:n1:', 'node:n2:'))).toBeUndefined();
    expect(await authenticate()('some-static-token')).toBeUndefined();
  });
});
