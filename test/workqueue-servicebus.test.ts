/**
 * The Service Bus adapter against the WorkQueue contract. It needs a real namespace (there is no
 * Service Bus emulator here): set SERVICEBUS_CONNECTION_STRING (Manage rights) to run it.
 * Without it the suite is skipped, and says so in its name and on the console.
 */
import { describe, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { describeWorkQueueContract } from '../shared/workqueue/contract.js';
import { openServiceBusWorkQueue } from '../adapters/workqueue/servicebus/index.js';
import type { WorkQueueSettings } from '../shared/workqueue/queue.js';

const connectionString = process.env.SERVICEBUS_CONNECTION_STRING;
// Service Bus' shortest lock is 5 s.
const settings: WorkQueueSettings = { lockDurationMs: 5_000, maxDeliveryCount: 3 };

if (connectionString) {
  describeWorkQueueContract(
    'Service Bus',
    async () => {
      const queue = await openServiceBusWorkQueue({ connectionString, settings, queuePrefix: `coracle-test-${randomUUID().slice(0, 6)}-` });
      return {
        queue,
        destroy: async () => {
          await queue.close();
          await queue.deleteCreatedQueues();
        },
      };
    },
    settings,
  );
} else {
  console.warn('Service Bus contract skipped: SERVICEBUS_CONNECTION_STRING is not set');
  describe.skip('Service Bus contract (skipped: SERVICEBUS_CONNECTION_STRING not set)', () => {
    it('runs the WorkQueue contract against a real namespace', () => undefined);
  });
}
