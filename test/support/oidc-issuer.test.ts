/**
 * The test issuer's authorization code grant (what the portal's OIDC sign-in is tested against)
 * refuses what a real issuer refuses: an unregistered redirect URI, a wrong PKCE verifier, a
 * code used twice or by another client. No cluster: plain fetch against the issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { startOidcIssuer, type TestIssuer } from './oidc-issuer.js';

const CLIENT = 'portal';
const REDIRECT = 'https://127.0.0.1:6443/portal/';
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  issuer.allowSignIn(CLIENT, REDIRECT, { sub: 'u1', email: 'u1@example.com', groups: ['g'] });
});
afterAll(() => issuer?.stop());

/** authorize asks for a code as a browser would and answers the redirect's Location (or the error status). */
async function authorize(params: Record<string, string>): Promise<URL | number> {
  const response = await fetch(`${issuer.url}/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });
  return response.status === 302 ? new URL(response.headers.get('location')!) : response.status;
}

const verifier = randomBytes(32).toString('base64url');
const challenge = createHash('sha256').update(verifier).digest('base64url');
const request = { client_id: CLIENT, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid profile', code_challenge: challenge, code_challenge_method: 'S256', state: 's1', nonce: 'n1' };
const redeem = (code: string, overrides: Record<string, string> = {}) => fetch(`${issuer.url}/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://127.0.0.1:6443' },
  body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: CLIENT, redirect_uri: REDIRECT, code_verifier: verifier, ...overrides }),
});

describe('test OIDC issuer: authorization code with PKCE', () => {
  it('advertises the code flow and answers cross-origin requests', async () => {
    const discovery = await fetch(`${issuer.url}/.well-known/openid-configuration`);
    expect(discovery.headers.get('access-control-allow-origin')).toBe('*');
    expect(await discovery.json()).toMatchObject({ authorization_endpoint: `${issuer.url}/authorize`, code_challenge_methods_supported: ['S256'] });
  });

  it('signs the user in once per code, with the id_token for the client (nonce kept) after a PKCE check', async () => {
    const back = await authorize(request);
    expect(back).toBeInstanceOf(URL);
    const url = back as URL;
    expect(`${url.origin}${url.pathname}`).toBe(REDIRECT);
    expect(url.searchParams.get('state')).toBe('s1');
    const code = url.searchParams.get('code')!;
    const ok = await redeem(code);
    expect(ok.status).toBe(200);
    const tokens = (await ok.json()) as { id_token: string };
    expect(decodeJwt(tokens.id_token)).toMatchObject({ iss: issuer.url, aud: CLIENT, sub: 'u1', nonce: 'n1', groups: ['g'] });
    expect((await redeem(code)).status).toBe(400); // once
  });

  it('refuses a wrong verifier, another client or redirect URI, and an unregistered redirect URI', async () => {
    const code = () => authorize(request).then((u) => (u as URL).searchParams.get('code')!);
    expect(await (await redeem(await code(), { code_verifier: randomBytes(32).toString('base64url') })).json()).toEqual({ error: 'invalid_grant', error_description: 'PKCE verification failed' });
    expect((await redeem(await code(), { client_id: 'other' })).status).toBe(400);
    expect((await redeem(await code(), { redirect_uri: 'https://elsewhere/' })).status).toBe(400);
    expect(await authorize({ ...request, redirect_uri: 'https://evil.example/' })).toBe(400);
    const noPkce = await authorize({ ...request, code_challenge: '' });
    expect((noPkce as URL).searchParams.get('error')).toBe('invalid_request');
  });
});
