import { oidcAuthenticator, userFromClaims, usernamePrefix, validateOidcConfig, type OidcConfig } from './oidc.js';
import { startOidcIssuer, type TestIssuer } from '../../test/support/oidc-issuer.js';

describe('claim mapping (kube-apiserver --oidc-* semantics)', () => {
  const issuerURL = 'https://login.example.com/tenant/v2.0';
  test('username prefix defaults: <issuer># unless the claim is email; "-" disables; an explicit prefix wins', () => {
    expect(usernamePrefix({ issuerURL })).toBe(`${issuerURL}#`);
    expect(usernamePrefix({ issuerURL, usernameClaim: 'oid' })).toBe(`${issuerURL}#`);
    expect(usernamePrefix({ issuerURL, usernameClaim: 'email' })).toBe('');
    expect(usernamePrefix({ issuerURL, usernamePrefix: '-' })).toBe('');
    expect(usernamePrefix({ issuerURL, usernameClaim: 'email', usernamePrefix: 'oidc:' })).toBe('oidc:');
  });

  test('username and groups claims are mapped with their prefixes; a single group string is a list of one', () => {
    const config: OidcConfig = { issuerURL, clientId: 'api', usernameClaim: 'email', groupsClaim: 'groups', groupsPrefix: 'oidc:' };
    expect(userFromClaims(config, { sub: 'x', email: 'ann@example.com', groups: ['dev', 'ops'] })).toEqual({ username: 'ann@example.com', groups: ['oidc:dev', 'oidc:ops'] });
    expect(userFromClaims(config, { email: 'ann@example.com', groups: 'dev' })).toEqual({ username: 'ann@example.com', groups: ['oidc:dev'] });
    expect(userFromClaims({ issuerURL, clientId: 'api' }, { sub: 'u1', groups: ['dev'] })).toEqual({ username: `${issuerURL}#u1`, groups: [] });
  });

  test('refused: no username claim, unverified email, groups of the wrong type, a required claim missing or different', () => {
    const config: OidcConfig = { issuerURL, clientId: 'api', usernameClaim: 'email', groupsClaim: 'groups', requiredClaims: { tid: 't1' } };
    expect(() => userFromClaims(config, { sub: 'x', tid: 't1' })).toThrow(/username claims "email"/);
    expect(() => userFromClaims(config, { email: 'a@b', email_verified: false, tid: 't1' })).toThrow(/email not verified/);
    expect(() => userFromClaims(config, { email: 'a@b', groups: [1], tid: 't1' })).toThrow(/groups claim/);
    expect(() => userFromClaims(config, { email: 'a@b' })).toThrow(/required claim tid/);
    expect(() => userFromClaims(config, { email: 'a@b', tid: 't2' })).toThrow(/required claim tid/);
    expect(userFromClaims(config, { email: 'a@b', email_verified: true, tid: 't1' }).username).toBe('a@b');
  });

  test('the configuration must name an https issuer (http only on loopback) and a client id', () => {
    expect(() => validateOidcConfig({ issuerURL: 'http://issuer.example.com', clientId: 'api' })).toThrow(/must use https/);
    expect(() => validateOidcConfig({ issuerURL: 'nope', clientId: 'api' })).toThrow(/not a URL/);
    expect(() => validateOidcConfig({ issuerURL, clientId: '' })).toThrow(/client id/);
    expect(() => validateOidcConfig({ issuerURL: 'http://127.0.0.1:9', clientId: 'api' })).not.toThrow();
  });
});

describe('oidcAuthenticator against a running issuer', () => {
  let issuer: TestIssuer;
  let other: TestIssuer;
  beforeAll(async () => {
    [issuer, other] = await Promise.all([startOidcIssuer(), startOidcIssuer()]);
  });
  afterAll(async () => {
    await Promise.all([issuer.stop(), other.stop()]);
  });
  const authenticator = () => oidcAuthenticator({ issuerURL: issuer.url, clientId: 'api', groupsClaim: 'groups', groupsPrefix: 'oidc:' });

  test('a valid token maps to its user; expired, wrong audience and bad signature are refused with the reason; wrong issuer and non-JWTs are left to others', async () => {
    const authenticate = authenticator();
    expect(await authenticate(await issuer.sign({ sub: 'ann', groups: ['dev'] }, { aud: 'api' }))).toEqual({ username: `${issuer.url}#ann`, groups: ['oidc:dev'] });
    expect(await authenticate(await issuer.sign({ sub: 'ann' }, { aud: ['other', 'api'] as unknown as string }))).toMatchObject({ username: `${issuer.url}#ann` });
    // Refused with go-oidc's reason (a TokenReview's status.error; a request only gets 401).
    const expired = await issuer.sign({ sub: 'ann' }, { aud: 'api', ttlSeconds: -30 });
    await expect(authenticate(expired)).rejects.toThrow(/^oidc: verify token: oidc: token is expired \(Token Expiry: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC\)$/);
    await expect(authenticate(await issuer.sign({ sub: 'ann' }, { aud: 'someone-else' }))).rejects.toThrow('oidc: verify token: oidc: expected audience "api" got ["someone-else"]');
    expect(await authenticate(await other.sign({ sub: 'ann' }, { aud: 'api' }))).toBeUndefined(); // another issuer's: not this authenticator's
    const [h, p] = (await issuer.sign({ sub: 'ann' }, { aud: 'api' })).split('.');
    const forged = (await other.sign({ sub: 'root' }, { aud: 'api' })).split('.')[2];
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    await expect(authenticate(`${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'root' })).toString('base64url')}.${forged}`)).rejects.toThrow(/^oidc: verify token: failed to verify signature: /);
    expect(await authenticate('not-a-jwt')).toBeUndefined();
  });

  test('keys are fetched again when the issuer rotates them (a new key id)', async () => {
    const authenticate = authenticator();
    expect(await authenticate(await issuer.sign({ sub: 'ann' }, { aud: 'api' }))).toBeDefined();
    await issuer.rotateKeys();
    const fresh = await issuer.sign({ sub: 'bob' }, { aud: 'api' });
    expect(await authenticate(fresh)).toMatchObject({ username: `${issuer.url}#bob` });
  });

  test('only RS256 by default, as upstream\'s --oidc-signing-algs; another algorithm when configured', async () => {
    const es256 = await startOidcIssuer({}, { alg: 'ES256' });
    try {
      const token = await es256.sign({ sub: 'ann' }, { aud: 'api' });
      await expect(oidcAuthenticator({ issuerURL: es256.url, clientId: 'api' })(token)).rejects.toThrow('oidc: verify token: oidc: id token signed with unsupported algorithm, expected ["RS256"] got "ES256"');
      expect(await oidcAuthenticator({ issuerURL: es256.url, clientId: 'api', signingAlgs: ['ES256'] })(token)).toMatchObject({ username: `${es256.url}#ann` });
    } finally {
      await es256.stop();
    }
  });

  test('an issuer whose discovery document names another issuer is refused', async () => {
    const authenticate = oidcAuthenticator({ issuerURL: issuer.url, clientId: 'api' }, async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('openid-configuration')) return res;
      return Response.json({ ...(await res.json()), issuer: 'https://evil.example.com' });
    });
    await expect(authenticate(await issuer.sign({ sub: 'ann' }, { aud: 'api' }))).rejects.toThrow(/issuer did not match the issuer returned by provider/);
  });
});
