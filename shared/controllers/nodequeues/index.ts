/**
 * The node-queues controller: a node's WorkQueue exists while its Node does. When a Node is
 * registered the queue is created (so the agent can receive before the first pod lands, and a
 * producer never sends to a missing queue); when the Node is deleted the queue and its messages
 * go. Level-triggered: the key is the node's name, and reconcile looks the Node up. Adapters
 * without queue lifecycle (the embedded queue) make it a no-op.
 */
import { resourceFor } from '../client.js';
import { readMetadata } from '../../api/objects.js';
import type { WorkQueue } from '../../workqueue/queue.js';
import type { Controller } from '../controller.js';

const NODES = resourceFor('v1', 'Node');

/** nodeQueuesController is the descriptor; `workQueue` gives the composition root's WorkQueue. */
export function nodeQueuesController(workQueue: () => Promise<WorkQueue>): Controller {
  return {
    name: 'nodequeues',
    kinds: ['Node'],
    // A Node's status updates (prevValue known) change nothing here; creates, deletes and changes
    // from a source that does not know the previous value do (createQueue is idempotent).
    keysFor: (change) => (change.type === 'put' && change.prevValue ? [] : [readMetadata(change.value).name ?? ''].filter((n) => n !== '')),
    async reconcile(name, ctx) {
      const queue = await workQueue();
      const node = await ctx.client.getOrUndefined(NODES, { name });
      if (node) await queue.createQueue?.(name);
      else await queue.deleteQueue?.(name);
    },
    resync: async (ctx) => (await ctx.client.listAll(NODES)).map((n) => readMetadata(n).name ?? '').filter((n) => n !== ''),
  };
}
