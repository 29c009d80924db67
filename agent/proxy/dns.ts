/**
 * Cluster DNS served by the node (the kube-dns/CoreDNS `kubernetes` plugin's answers, reduced),
 * over UDP with `dns-packet` for the wire format:
 * - `<svc>.<ns>.svc.<domain>` A → the cluster IP; for a headless Service, the addresses of its
 *   ready endpoints (of every endpoint when it publishes not-ready addresses, which the slices
 *   already mark ready); `<hostname>.<svc>.<ns>.svc.<domain>` → that endpoint;
 * - an ExternalName Service → CNAME to its external name;
 * - `_<port>._<proto>.<svc>.<ns>.svc.<domain>` SRV → the port on the Service's name;
 * - a known name asked for another type answers NOERROR with no records; an unknown name under
 *   the cluster domain NXDOMAIN; any other name is forwarded to the host's resolver.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';

type Loose = Record<string, any>;

/** CLUSTER_DOMAIN is the kubelet's default `--cluster-domain`. */
export const CLUSTER_DOMAIN = 'cluster.local';
const TTL = 5;

/** Record is what one name answers. */
export interface NameRecord {
  a: string[];
  cname?: string;
  srv?: Array<{ port: number; target: string }>;
}

/** dnsRecords builds the name table from Services and EndpointSlices. */
export function dnsRecords(services: readonly Loose[], slices: readonly Loose[], domain = CLUSTER_DOMAIN): Map<string, NameRecord> {
  const table = new Map<string, NameRecord>();
  const add = (name: string, record: Partial<NameRecord>) => {
    const r = table.get(name) ?? { a: [] };
    if (record.a) r.a.push(...record.a.filter((ip) => !r.a.includes(ip)));
    if (record.cname) r.cname = record.cname;
    if (record.srv) r.srv = [...(r.srv ?? []), ...record.srv];
    table.set(name, r);
  };
  const ready = new Map<string, Loose[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
    if (!svc) continue;
    const key = `${s.metadata.namespace}/${svc}`;
    ready.set(key, [...(ready.get(key) ?? []), ...(s.endpoints ?? []).filter((e: Loose) => e.conditions?.ready !== false)]);
  }
  for (const svc of services) {
    const ns = svc.metadata?.namespace;
    const name = `${svc.metadata?.name}.${ns}.svc.${domain}`;
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName') {
      if (spec.externalName) add(name, { cname: String(spec.externalName).replace(/\.$/, '') });
      continue;
    }
    if (spec.clusterIP && spec.clusterIP !== 'None') add(name, { a: [spec.clusterIP] });
    else {
      add(name, { a: [] });
      for (const e of ready.get(`${ns}/${svc.metadata?.name}`) ?? []) {
        add(name, { a: e.addresses ?? [] });
        if (e.hostname) add(`${e.hostname}.${name}`, { a: e.addresses ?? [] });
      }
    }
    for (const p of spec.ports ?? []) {
      if (p.name) add(`_${p.name}._${String(p.protocol ?? 'TCP').toLowerCase()}.${name}`, { srv: [{ port: p.port, target: name }] });
    }
  }
  return table;
}

/** answer builds the response to one query from `table`; undefined when the name is not the cluster's (forward it). */
export function answer(query: dnsPacket.Packet, table: ReadonlyMap<string, NameRecord>, domain = CLUSTER_DOMAIN): dnsPacket.Packet | undefined {
  const q = query.questions?.[0];
  if (!q) return undefined;
  const name = q.name.toLowerCase().replace(/\.$/, '');
  if (name !== domain && !name.endsWith(`.${domain}`)) return undefined;
  const record = table.get(name);
  const base = { id: query.id, type: 'response' as const, flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE, questions: [q] };
  if (!record) return { ...base, rcode: 'NXDOMAIN', flags: base.flags | 3 } as dnsPacket.Packet;
  const answers: dnsPacket.Answer[] = [];
  if (record.cname) answers.push({ type: 'CNAME', name: q.name, ttl: TTL, data: record.cname });
  else if (q.type === 'A') for (const ip of record.a) answers.push({ type: 'A', name: q.name, ttl: TTL, data: ip });
  if (q.type === 'SRV') for (const s of record.srv ?? []) answers.push({ type: 'SRV', name: q.name, ttl: TTL, data: { priority: 0, weight: 100, port: s.port, target: s.target } });
  return { ...base, answers };
}

function hostNameserver(): string | undefined {
  try {
    const line = readFileSync('/etc/resolv.conf', 'utf8').split('\n').find((l) => /^nameserver\s+\d+\.\d+\.\d+\.\d+/.test(l));
    return line?.split(/\s+/)[1];
  } catch {
    return undefined;
  }
}

/** DnsStats counts what a DnsServer did since it started (for logs and tests). */
export interface DnsStats {
  queries: number;
  answered: number;
  forwarded: number;
  /** Queries that could not be decoded (dropped). */
  malformed: number;
  /** Replies the socket failed to send. */
  sendErrors: number;
  /** The longest time from a query's arrival to its reply leaving, in ms. */
  slowestMs: number;
}

/** DnsServer answers cluster names on one UDP address. */
export class DnsServer {
  private table: ReadonlyMap<string, NameRecord> = new Map();
  private readonly upstream = hostNameserver();
  /** What this server did so far (read-only for callers). */
  readonly stats: DnsStats = { queries: 0, answered: 0, forwarded: 0, malformed: 0, sendErrors: 0, slowestMs: 0 };

  private constructor(private readonly socket: dgram.Socket, private readonly log: (m: string) => void) {
    socket.on('message', (msg, rinfo) => void this.handle(msg, rinfo));
    socket.on('error', (err) => this.log(`dns: ${err.message}`));
  }

  /** listen binds `address:port` (UDP); rejects (EADDRINUSE) when another process holds it — the proxies' election. */
  static listen(address: string, port: number, log: (m: string) => void): Promise<DnsServer> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
      socket.once('error', reject);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve(new DnsServer(socket, log));
      });
    });
  }

  /** update replaces the name table. */
  update(table: ReadonlyMap<string, NameRecord>): void {
    this.table = table;
  }

  private async handle(msg: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    const arrived = performance.now();
    this.stats.queries++;
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      this.stats.malformed++;
      return;
    }
    const reply = answer(query, this.table);
    if (reply) return this.send(dnsPacket.encode(reply), rinfo, arrived);
    this.stats.forwarded++;
    const forwarded = this.upstream ? await forward(msg, this.upstream).catch(() => undefined) : undefined;
    if (forwarded) return this.send(forwarded, rinfo, arrived);
    this.send(dnsPacket.encode({ id: query.id, type: 'response', flags: 2 | dnsPacket.RECURSION_AVAILABLE, questions: query.questions ?? [] }), rinfo, arrived);
  }

  private send(buf: Buffer, rinfo: dgram.RemoteInfo, arrived: number): void {
    this.socket.send(buf, rinfo.port, rinfo.address, (err) => {
      if (err) {
        this.stats.sendErrors++;
        this.log(`dns: reply to ${rinfo.address}:${rinfo.port} failed: ${err.message}`);
        return;
      }
      this.stats.answered++;
      this.stats.slowestMs = Math.max(this.stats.slowestMs, performance.now() - arrived);
    });
  }

  /** close stops answering. */
  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function forward(msg: Buffer, server: string, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('timeout'));
    }, timeoutMs);
    s.once('message', (reply) => {
      clearTimeout(timer);
      s.close();
      resolve(reply);
    });
    s.send(msg, 53, server, (err) => {
      if (err) {
        clearTimeout(timer);
        s.close();
        reject(err);
      }
    });
  });
}
