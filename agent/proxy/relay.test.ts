/**
 * Loopback relays: a loopback TCP backend is replaced by a relay on the bind address that carries
 * bytes both ways; other backends are left alone; a relay no rule uses any more is closed.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { isLoopback, LoopbackRelays } from './relay.js';
import type { ServicePortRule } from './rules.js';

let relays: LoopbackRelays | undefined;
let echo: net.Server | undefined;
afterEach(() => {
  relays?.close();
  echo?.close();
});

/** roundTrip sends `text` to ip:port and resolves with what comes back before the peer ends. */
function roundTrip(ip: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, ip, () => socket.end(text));
    let got = '';
    socket.on('data', (chunk: Buffer) => (got += chunk.toString()));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
}

const rule = (backends: ServicePortRule['backends'], protocol: 'tcp' | 'udp' = 'tcp'): ServicePortRule => ({ name: 'default/kubernetes:https', clusterIP: '10.96.0.1', port: 443, protocol, backends });

describe('LoopbackRelays', () => {
  it('tells loopback addresses apart', () => {
    expect(['127.0.0.1', '127.1.2.3'].map(isLoopback)).toEqual([true, true]);
    expect(['10.0.0.1', '::1', 'x'].map(isLoopback)).toEqual([false, false, false]);
  });

  it('relays a loopback backend from the bind address, both ways, and closes it once unused', async () => {
    echo = net.createServer((s) => s.on('data', (chunk: Buffer) => s.end(`echo:${chunk.toString()}`)));
    await new Promise<void>((resolve) => echo!.listen(0, '127.0.0.1', resolve));
    const target = { ip: '127.0.0.1', port: (echo.address() as net.AddressInfo).port };
    const logs: string[] = [];
    relays = new LoopbackRelays('127.0.0.2', (m) => logs.push(m));
    const [routed] = await relays.route([rule([target, { ip: '10.1.0.5', port: 8080 }])]);
    const relayed = routed!.backends.find((b) => b.ip === '127.0.0.2')!;
    expect(routed!.backends).toEqual([relayed, { ip: '10.1.0.5', port: 8080 }]);
    expect(relayed.port).not.toBe(target.port);
    expect(await roundTrip(relayed.ip, relayed.port, 'hello')).toBe('echo:hello');
    // The same backend keeps its relay; UDP backends are never relayed.
    expect((await relays.route([rule([target])]))[0]!.backends).toEqual([relayed]);
    expect((await relays.route([rule([target], 'udp')]))[0]!.backends).toEqual([target]);
    await expect(roundTrip(relayed.ip, relayed.port, 'again')).rejects.toThrow(/ECONNREFUSED/);
    expect(logs).toEqual([`proxy: relays 127.0.0.2:${relayed.port} to the loopback endpoint 127.0.0.1:${target.port}`]);
  });
});
