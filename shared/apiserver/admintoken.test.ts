import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startApiServer, type Harness } from '../../test/support/apiserver.js';
import { ADMIN_USER, adminTokenSecret, adminTokenState, breakGlassAuthenticator, generateAdminToken } from './admintoken.js';

let h: Harness;
const SECRETS = '/api/v1/namespaces/kube-system/secrets';
const seed = 'seed-token-from-the-settings';

beforeAll(async () => {
  h = await startApiServer();
});
afterAll(async () => {
  await h.close();
});

async function put(state: Parameters<typeof adminTokenSecret>[0]): Promise<void> {
  const body = adminTokenSecret(state, new Date());
  const current = await h.json('GET', `${SECRETS}/coracle-admin-token`);
  const res = current.status === 404 ? await h.json('POST', SECRETS, body)
    : await h.json('PUT', `${SECRETS}/coracle-admin-token`, { ...body, metadata: { ...(body.metadata as object), resourceVersion: current.body.metadata.resourceVersion } });
  expect(res.status).toBeLessThan(300);
}

it('the seed authenticates as admin until the Secret rotates or disables it; rotation refuses the old token at once', async () => {
  const authenticate = breakGlassAuthenticator(h.store, new Set([seed]));
  expect(await authenticate(seed)).toEqual(ADMIN_USER);
  expect(await authenticate('some-other-token')).toBeUndefined();
  expect(await authenticate(generateAdminToken())).toBeUndefined();

  await put({ disabled: true });
  expect(await authenticate(seed)).toBeUndefined();
  await put({ disabled: false });
  expect(await authenticate(seed)).toEqual(ADMIN_USER);

  const rotated = generateAdminToken();
  expect(rotated).toMatch(/^admin:[A-Za-z0-9_-]{43}$/);
  await put({ token: rotated, disabled: false });
  expect(await authenticate(seed)).toBeUndefined();
  expect(await authenticate(rotated)).toEqual(ADMIN_USER);
  const next = generateAdminToken();
  await put({ token: next, disabled: false });
  expect(await authenticate(rotated)).toBeUndefined();
  expect(await authenticate(next)).toEqual(ADMIN_USER);

  // Disable keeps which token it is; enable brings that one back, not the seed.
  const stored = adminTokenState((await h.json('GET', `${SECRETS}/coracle-admin-token`)).body);
  expect(stored).toEqual({ tokenHash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), disabled: false });
  await put({ tokenHash: stored!.tokenHash, disabled: true });
  expect(await authenticate(next)).toBeUndefined();
  await put({ tokenHash: stored!.tokenHash, disabled: false });
  expect(await authenticate(next)).toEqual(ADMIN_USER);
  expect(await authenticate(seed)).toBeUndefined();
});

it('the Secret holds only a hash of the token', () => {
  const token = generateAdminToken();
  const text = JSON.stringify(adminTokenSecret({ token, disabled: false }, new Date()));
  expect(text).not.toContain(token.slice('admin:'.length));
  expect(text).not.toContain(Buffer.from(token).toString('base64'));
});
