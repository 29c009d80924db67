import { describe, expect, it } from '@jest/globals';
import { inProcessControllers } from './changefeed.js';

describe('inProcessControllers', () => {
  const names = (config: Parameters<typeof inProcessControllers>[0]) => inProcessControllers(config).map((c) => c.name);
  const podNetwork = { clusterCIDR: '10.244.0.0/16', nodeMaskSize: 24 };
  const routeTable = { subscriptionId: 's', resourceGroup: 'rg', name: 'pods', identity: {} };

  it('runs the node IPAM controller with a cluster CIDR, and the route controller only with a route table too', () => {
    expect(names({})).not.toContain('nodeipam');
    expect(names({ routeTable })).not.toContain('routes');
    expect(names({ podNetwork })).toContain('nodeipam');
    expect(names({ podNetwork })).not.toContain('routes');
    expect(names({ podNetwork, routeTable })).toEqual(expect.arrayContaining(['nodeipam', 'routes']));
  });
});
