import { describe, expect, it } from '@jest/globals';
import type { Change } from './change.js';
import type { Controller, ControllerContext } from './controller.js';
import { ControllerManager, type ReconcileLogLine } from './manager.js';

const configMap = (name: string, requestId?: string): Change => ({
  key: `/registry/core/configmaps/default/${name}`, type: 'put', revision: 1, value: { kind: 'ConfigMap', metadata: { name, namespace: 'default' } }, ...(requestId ? { requestId } : {}),
});

describe('ControllerManager reconcile log lines', () => {
  it("logs each reconcile with the id of the API request whose write queued it, also on the retry of a failure", async () => {
    const lines: ReconcileLogLine[] = [];
    let failOnce = true;
    const controller: Controller = {
      name: 'echo', kinds: ['ConfigMap'], keysFor: (c) => [c.key.split('/').pop()!], resync: async () => [],
      reconcile: async (key) => {
        if (key === 'b' && failOnce) {
          failOnce = false;
          throw new Error('conflict');
        }
      },
    };
    const manager = new ControllerManager([controller], {} as ControllerContext, { baseBackoffMs: 5, log: (line) => lines.push(line) });
    await manager.handleChanges([configMap('a', 'req-a'), configMap('b', 'req-b'), configMap('c')]);
    for (let i = 0; i < 100 && lines.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    await manager.stop();
    expect(lines.map(({ latencyMs: _l, ...rest }) => rest)).toEqual([
      { controller: 'echo', key: 'a', requestId: 'req-a', result: 'ok', error: undefined },
      { controller: 'echo', key: 'b', requestId: 'req-b', result: 'error', error: 'conflict' },
      { controller: 'echo', key: 'c', requestId: undefined, result: 'ok', error: undefined },
      { controller: 'echo', key: 'b', requestId: 'req-b', result: 'ok', error: undefined },
    ]);
  });

  it('keeps first-seen key order, and the latest change of a key names its request', async () => {
    const seen: string[] = [];
    const lines: ReconcileLogLine[] = [];
    const controller: Controller = { name: 'order', kinds: ['ConfigMap'], keysFor: (c) => [c.key.split('/').pop()!], resync: async () => [], reconcile: async (key) => void seen.push(key) };
    const manager = new ControllerManager([controller], {} as ControllerContext, { concurrency: 1, log: (line) => lines.push(line) });
    expect(manager.keysOf([configMap('x'), configMap('y'), configMap('x')])).toEqual(['order\tx', 'order\ty']);
    await manager.handleChanges([configMap('x', 'req-1'), configMap('y'), configMap('x', 'req-2')]);
    await manager.stop();
    expect(seen).toEqual(['x', 'y']);
    expect(lines.find((l) => l.key === 'x')?.requestId).toBe('req-2');
  });
});
