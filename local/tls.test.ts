/**
 * The local host's TLS settings refuse what has no forward secrecy (issue 15): a client offering
 * only AES128-SHA (static RSA), or TLS 1.1, gets no session; ECDHE over TLS 1.2 and TLS 1.3 work.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createCertificateAuthority, createServingCertificate } from '../cli/pki.js';
import { SERVER_TLS_OPTIONS } from './tls.js';

let server: https.Server;
let port: number;
let ca: string;
beforeAll(async () => {
  const authority = createCertificateAuthority();
  ca = authority.cert;
  const serving = createServingCertificate(authority, ['127.0.0.1']);
  server = https.createServer({ ...SERVER_TLS_OPTIONS, key: serving.key, cert: serving.cert }, (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** handshake connects with `options` and answers the negotiated protocol and cipher, or the error. */
function handshake(options: tls.ConnectionOptions): Promise<{ protocol?: string | null; cipher?: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: undefined, ...options }, () => {
      resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().name });
      socket.end();
    });
    socket.once('error', (err) => resolve({ error: err.message }));
  });
}

describe('SERVER_TLS_OPTIONS', () => {
  it('refuses suites without forward secrecy and TLS before 1.2', async () => {
    expect((await handshake({ maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' })).error).toBeDefined();
    expect((await handshake({ maxVersion: 'TLSv1.2', ciphers: 'AES256-GCM-SHA384:AES128-GCM-SHA256' })).error).toBeDefined();
    expect((await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA' })).error).toBeDefined();
    expect((await handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).error).toBeDefined();
  });

  it('speaks TLS 1.2 with ECDHE and AEAD, and TLS 1.3', async () => {
    expect(await handshake({ maxVersion: 'TLSv1.2' })).toEqual({ protocol: 'TLSv1.2', cipher: expect.stringMatching(/^ECDHE-(RSA|ECDSA)-(AES\d+-GCM|CHACHA20)/) });
    expect(await handshake({})).toEqual({ protocol: 'TLSv1.3', cipher: expect.stringMatching(/^TLS_/) });
  });

  it('serves a TLS 1.2 client that can only verify RSA+SHA-1 signatures (no signature_algorithms: busybox wget) with ECDHE and AEAD', async () => {
    const sha1Only = { maxVersion: 'TLSv1.2' as const, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0', sigalgs: 'RSA+SHA1' };
    expect(await handshake(sha1Only)).toEqual({ protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' });
    expect((await handshake({ ...sha1Only, ciphers: 'AES128-GCM-SHA256:@SECLEVEL=0' })).error).toBeDefined();
  });
});
