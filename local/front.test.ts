/**
 * The front of `coracle up --instances`: request-by-request round-robin over real HTTP backends
 * (one keep-alive connection from the client still reaches every backend in turn), a backend that
 * refuses connections is skipped, streamed bodies pass through as they come, and with no backend
 * reachable the answer is a Kubernetes Status.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, createServingCertificate } from '../cli/pki.js';
import { startFront, type Front } from './front.js';

const authority = createCertificateAuthority();
const serving = createServingCertificate(authority, ['127.0.0.1']);
let backends: http.Server[];
let front: Front;
let deadUrl: string;

function backend(name: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(`${name}:first\n`);
      setTimeout(() => res.end(`${name}:second\n`), 300);
      return;
    }
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => res.end(JSON.stringify({ name, method: req.method, body, auth: req.headers.authorization })));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const urlOf = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

beforeAll(async () => {
  backends = [await backend('a'), await backend('b')];
  const dead = await backend('dead');
  deadUrl = urlOf(dead);
  await new Promise<void>((resolve) => dead.close(() => resolve()));
  front = await startFront({ backends: [urlOf(backends[0]!), deadUrl, urlOf(backends[1]!)], port: 0, host: '127.0.0.1', tls: serving });
});
afterAll(async () => {
  await front.stop();
  await Promise.all(backends.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: authority.cert });

function send(path: string, method = 'GET', body?: string): Promise<{ status: number; text: string; chunks: number }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: front.port, path, method, agent, headers: { authorization: 'Bearer t' } }, (res) => {
      let text = '';
      let chunks = 0;
      res.on('data', (d: Buffer) => { text += d.toString(); chunks++; });
      res.on('end', () => resolve({ status: res.statusCode!, text, chunks }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the front', () => {
  it('spreads requests over the live backends one request at a time, skipping one that refuses', async () => {
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push((JSON.parse((await send('/x', 'POST', `n${i}`)).text) as { name: string }).name);
    expect(names).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    const one = JSON.parse((await send('/x', 'PUT', 'payload')).text) as { method: string; body: string; auth: string };
    expect(one).toMatchObject({ method: 'PUT', body: 'payload', auth: 'Bearer t' });
    expect(front.served().get(deadUrl)).toBeGreaterThan(0);
  });

  it('streams a response as the backend writes it', async () => {
    const reply = await send('/stream');
    expect(reply.text).toMatch(/^(a|b):first\n\1:second\n$/);
    expect(reply.chunks).toBe(2);
  });

  it('answers a Status 503 when no backend can be reached', async () => {
    const lonely = await startFront({ backends: [deadUrl], port: 0, host: '127.0.0.1', tls: serving });
    try {
      const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port: lonely.port, path: '/api', ca: authority.cert }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        }).on('error', reject);
      });
      expect(reply.status).toBe(503);
      expect(JSON.parse(reply.text)).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    } finally {
      await lonely.stop();
    }
  }, 20_000);
});
