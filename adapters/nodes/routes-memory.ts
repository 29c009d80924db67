/**
 * NodeRoutes in memory: the local cluster's route table. Its nodes share one Docker bridge (and
 * one host), so pod addresses are routable without any route; the table only records what the
 * route controller would write, which keeps the controller's wiring the same as on Azure and
 * gives the contract suite a first implementation.
 */
import { checkNodeRoute, type NodeRoute, type NodeRoutes } from '../../shared/nodes/routes.js';

/** memoryNodeRoutes returns an empty in-memory route table. */
export function memoryNodeRoutes(): NodeRoutes {
  const routes = new Map<string, NodeRoute>();
  return {
    list: async () => [...routes.values()].map((r) => ({ ...r })),
    async ensure(route) {
      checkNodeRoute(route);
      routes.set(route.name, { ...route });
    },
    async remove(name) {
      routes.delete(name);
    },
  } satisfies NodeRoutes;
}
