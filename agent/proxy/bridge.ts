/**
 * Where a node's pods reach the node: the gateway of the engine's default `bridge` network (a
 * private dockerd's own bridge locally). The node's cluster DNS listens there.
 */
import http from 'node:http';

/** bridgeGateway asks the engine on `socketPath` for its `bridge` network's gateway; undefined when it has none. */
export function bridgeGateway(socketPath: string, timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: '/networks/bridge', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          const net = JSON.parse(body) as { IPAM?: { Config?: Array<{ Gateway?: string }> } };
          resolve(net.IPAM?.Config?.find((c) => c.Gateway && c.Gateway.includes('.'))?.Gateway);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from the Docker engine at ${socketPath} in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
