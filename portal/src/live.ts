/**
 * The page's live state: one Reflector per resource the page shows, started after sign-in and
 * stopped at sign-out. Components re-render at most once per animation frame however many events
 * arrive.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ApiClient } from './api.js';
import { Reflector } from './watch.js';
import { UPGRADE_PATHS } from './upgrade-model.js';

/** WATCHED are the collections the page follows. */
export const WATCHED = {
  clusters: '/apis/coracle.io/v1/clusters',
  pools: '/apis/coracle.io/v1/nodepools',
  nodes: '/api/v1/nodes',
  pods: '/api/v1/pods',
  deployments: '/apis/apps/v1/deployments',
  events: '/api/v1/events',
  runs: UPGRADE_PATHS.runs,
} as const;

/**
 * POLLED are the collections listed every 2 s instead of watched: HTTP/1.1 gives the page six
 * connections to the control plane, and each watch holds one (see watch.ts). The four watched
 * (nodes, pods, Deployments, UpgradeRuns) leave two for previews, starts, pauses and these lists.
 */
const POLLED: Record<string, number | undefined> = { clusters: 2000, pools: 2000, events: 2000 };

/** Live is every reflector, by name. */
export type Live = { [K in keyof typeof WATCHED]: Reflector };

/** useLive starts the reflectors for `client` and re-renders the caller when any changes. */
export function useLive(client: ApiClient): Live {
  const [, setTick] = useState(0);
  const live = useMemo(() => {
    let scheduled = false;
    const changed = () => {
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(() => {
        scheduled = false;
        setTick((t) => t + 1);
      });
    };
    // UpgradeRuns may not be served (the upgrade API is newer than some control planes): ask discovery first.
    const discover = (name: string) => (name === 'runs' ? { groupVersion: 'coracle.io/v1', resource: 'upgraderuns' } : undefined);
    return Object.fromEntries(Object.entries(WATCHED).map(([name, path]) => [name, new Reflector(client, path, changed, discover(name), POLLED[name])])) as Live;
  }, [client]);
  useEffect(() => {
    for (const r of Object.values(live)) r.start();
    return () => {
      for (const r of Object.values(live)) r.stop();
    };
  }, [live]);
  return live;
}
