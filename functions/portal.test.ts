import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isPortalPath, servePortal } from './portal.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'portal-'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html>');
  await writeFile(path.join(dir, 'app.js'), 'export {}');
  await writeFile(path.join(dir, 'secret.txt'), 'no');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const get = (p: string, method = 'GET') => servePortal(new Request(`https://h${p}`, { method }), { dir });

describe('servePortal', () => {
  it('claims /portal and below, nothing else', () => {
    expect(isPortalPath('/portal')).toBe(true);
    expect(isPortalPath('/portal/app.js')).toBe(true);
    expect(isPortalPath('/portals')).toBe(false);
    expect(isPortalPath('/api/v1/pods')).toBe(false);
  });

  it('serves index.html at /portal/ and redirects /portal there', async () => {
    const index = await get('/portal/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await index.text()).toBe('<!doctype html>');
    const redirect = await get('/portal');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/portal/');
  });

  it('serves built assets with their type, and nothing outside the folder or of an unknown type', async () => {
    expect((await get('/portal/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get('/portal/secret.txt')).status).toBe(404);
    expect((await get('/portal/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
    expect((await get('/portal/missing.js')).status).toBe(404);
    expect((await get('/portal/%zz')).status).toBe(400);
    expect((await get('/portal/', 'POST')).status).toBe(405);
    const head = await get('/portal/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('serves config.json: the OIDC issuer and client id when the API accepts OIDC tokens, and lets the page reach that issuer only then', async () => {
    const none = await get('/portal/config.json');
    expect(none.status).toBe(200);
    expect(none.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await none.json()).toEqual({});
    expect(none.headers.get('content-security-policy')).not.toContain('connect-src');
    const oidc = { issuerURL: 'https://login.microsoftonline.com/tenant-1/v2.0', clientId: 'api-client' };
    const configured = await servePortal(new Request('https://h/portal/config.json'), { dir, oidc });
    expect(await configured.json()).toEqual({ oidc });
    const index = await servePortal(new Request('https://h/portal/'), { dir, oidc });
    expect(index.headers.get('content-security-policy')).toContain("connect-src 'self' https://login.microsoftonline.com;");
  });
});
