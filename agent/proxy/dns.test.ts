import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { DnsServer, dnsRecords } from './dns.js';

const services = [
  { metadata: { namespace: 'ns', name: 'web' }, spec: { clusterIP: '10.96.0.9', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
  { metadata: { namespace: 'ns', name: 'db' }, spec: { clusterIP: 'None', ports: [{ port: 5432 }] } },
  { metadata: { namespace: 'ns', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.org' } },
];
const slices = [{
  metadata: { namespace: 'ns', name: 'db-x', labels: { 'kubernetes.io/service-name': 'db' } }, addressType: 'IPv4',
  endpoints: [{ addresses: ['10.0.0.7'], hostname: 'db-0', conditions: { ready: true } }, { addresses: ['10.0.0.8'], conditions: { ready: false } }],
}];

let server: DnsServer;
let port: number;
beforeAll(async () => {
  // Port 0: any free port, for the test; the agent binds 53.
  server = await DnsServer.listen('127.0.0.1', 0, () => undefined);
  port = (server as unknown as { socket: dgram.Socket }).socket.address().port;
  server.update(dnsRecords(services, slices));
});
afterAll(() => server.close());

/** Reply is a decoded answer as these tests read it (dns-packet's types leave out `rcode` and union the records' data). */
type Reply = { rcode?: string; answers?: Array<{ type: string; data: unknown }> };

function ask(name: string, type: dnsPacket.RecordType = 'A'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('message', (msg) => {
      s.close();
      resolve(dnsPacket.decode(msg) as unknown as Reply);
    });
    s.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }), port, '127.0.0.1', (err) => err && reject(err));
  });
}

describe('cluster DNS', () => {
  it('answers a Service name with its cluster IP, a headless one with its ready pods, and a pod hostname', async () => {
    expect((await ask('web.ns.svc.cluster.local')).answers?.map((a) => a.data)).toEqual(['10.96.0.9']);
    expect((await ask('db.ns.svc.cluster.local')).answers?.map((a) => a.data)).toEqual(['10.0.0.7']);
    expect((await ask('db-0.db.ns.svc.cluster.local')).answers?.map((a) => a.data)).toEqual(['10.0.0.7']);
    expect((await ask('ext.ns.svc.cluster.local')).answers?.map((a) => [a.type, a.data])).toEqual([['CNAME', 'example.org']]);
    expect((await ask('_http._tcp.web.ns.svc.cluster.local', 'SRV')).answers?.map((a) => a.data)).toEqual([{ priority: 0, weight: 100, port: 80, target: 'web.ns.svc.cluster.local' }]);
  });

  it('answers NXDOMAIN for an unknown cluster name and no records for another type of a known one', async () => {
    const missing = await ask('nope.ns.svc.cluster.local');
    expect(missing.rcode).toBe('NXDOMAIN');
    const aaaa = await ask('web.ns.svc.cluster.local', 'AAAA');
    expect(aaaa.rcode).toBe('NOERROR');
    expect(aaaa.answers).toEqual([]);
  });

  it('counts every query it receives and every reply it sends', async () => {
    const before = { ...server.stats };
    await Promise.all([ask('web.ns.svc.cluster.local'), ask('web.ns.svc.cluster.local', 'AAAA'), ask('nope.ns.svc.cluster.local')]);
    expect(server.stats.queries - before.queries).toBe(3);
    expect(server.stats.answered - before.answered).toBe(3);
    expect(server.stats.sendErrors).toBe(0);
    expect(server.stats.slowestMs).toBeGreaterThan(0);
  });

  it('refuses a second server on the same address (the proxies election)', async () => {
    await expect(DnsServer.listen('127.0.0.1', port, () => undefined)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
