import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startControllerFixture, type ControllerFixture } from '../../test/support/controller-fixture.js';
import { EVENT_TTL_KEY, EventTtlMemo, eventTtlKeys, isExpired, lastWriteMs, sweepExpiredEvents } from './eventttl.js';

const NOW = new Date('2026-05-01T12:00:00Z');
const HOUR = 60 * 60_000;
let f: ControllerFixture;
beforeEach(async () => { f = await startControllerFixture(() => NOW); });
afterEach(async () => { await f.close(); });

const event = (name: string, namespace: string, fields: Record<string, unknown>) => [`/api/v1/namespaces/${namespace}/events`, {
  apiVersion: 'v1', kind: 'Event', metadata: { name },
  involvedObject: { kind: 'Pod', name: 'p', namespace }, reason: 'Started', message: 'm', type: 'Normal', ...fields,
}] as [string, Record<string, unknown>];
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString().replace(/\.\d+Z$/, 'Z');

describe('Event TTL sweep (issue 15)', () => {
  it('reads the last write from lastTimestamp, then series, eventTime, creationTimestamp', () => {
    expect(lastWriteMs({ lastTimestamp: '2026-05-01T10:00:00Z', eventTime: '2026-05-01T11:00:00.000000Z' })).toBe(Date.parse('2026-05-01T10:00:00Z'));
    expect(lastWriteMs({ lastTimestamp: null, series: { count: 2, lastObservedTime: '2026-05-01T10:30:00.000000Z' }, eventTime: '2026-05-01T10:00:00.000000Z' })).toBe(Date.parse('2026-05-01T10:30:00Z'));
    expect(lastWriteMs({ metadata: { creationTimestamp: '2026-05-01T09:00:00Z' } })).toBe(Date.parse('2026-05-01T09:00:00Z'));
    expect(isExpired({ lastTimestamp: ago(HOUR + 1000) }, NOW.getTime())).toBe(true);
    expect(isExpired({ lastTimestamp: ago(HOUR - 1000) }, NOW.getTime())).toBe(false);
    expect(isExpired({}, NOW.getTime())).toBe(false);
  });

  it('deletes the Events of every namespace last written over an hour ago, page by page, and keeps the rest', async () => {
    await f.harness.json('POST', '/api/v1/namespaces', { metadata: { name: 'other' } });
    const old = Array.from({ length: 25 }, (_, i) => event(`old-${i}`, i % 2 ? 'default' : 'other', { lastTimestamp: ago(2 * HOUR), firstTimestamp: ago(3 * HOUR) }));
    // Created long ago but counted up recently: it lives on.
    const repeated = event('repeated', 'default', { firstTimestamp: ago(5 * HOUR), lastTimestamp: ago(10 * 60_000), count: 7 });
    const fresh = Array.from({ length: 5 }, (_, i) => event(`fresh-${i}`, 'default', { lastTimestamp: ago(60_000) }));
    await f.seed(...old, repeated, ...fresh);
    const report = await sweepExpiredEvents(f.ctx.client, { now: NOW, pageSize: 7 });
    // The next expiry: `repeated`, last written 10 minutes ago.
    expect(report).toEqual({ scanned: 31, deleted: 25, truncated: false, nextExpiryAt: NOW.getTime() + 50 * 60_000 + 1 });
    const left = (await f.get('/api/v1/events')).items.map((e: any) => e.metadata.name).sort();
    expect(left).toEqual(['fresh-0', 'fresh-1', 'fresh-2', 'fresh-3', 'fresh-4', 'repeated']);
  });

  it('stops after maxDeletes and says so; the next sweep goes on', async () => {
    await f.seed(...Array.from({ length: 12 }, (_, i) => event(`old-${i}`, 'default', { lastTimestamp: ago(2 * HOUR) })));
    expect(await sweepExpiredEvents(f.ctx.client, { now: NOW, pageSize: 5, maxDeletes: 5 })).toEqual({ scanned: 5, deleted: 5, truncated: true });
    expect(await sweepExpiredEvents(f.ctx.client, { now: NOW, pageSize: 5, maxDeletes: 100 })).toEqual({ scanned: 7, deleted: 7, truncated: false });
    expect((await f.get('/api/v1/events')).items).toEqual([]);
  });

  it('wakes on Event creations only, and skips the scan while a deadline is known', () => {
    const ev = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' } };
    expect(eventTtlKeys({ key: 'k', type: 'put', value: ev, revision: 1 })).toEqual([EVENT_TTL_KEY]);
    expect(eventTtlKeys({ key: 'k', type: 'put', value: ev, prevValue: ev, revision: 2 })).toEqual([]);
    expect(eventTtlKeys({ key: 'k', type: 'put', value: { kind: 'Pod' }, revision: 3 })).toEqual([]);
    const memo = new EventTtlMemo();
    expect(memo.due(NOW)).toBeUndefined();
    memo.record({ scanned: 1, deleted: 0, truncated: false, nextExpiryAt: NOW.getTime() + 5000 });
    expect(memo.due(NOW)).toBe(5000);
    expect(memo.due(new Date(NOW.getTime() + 5000))).toBeUndefined();
    memo.record({ scanned: 5, deleted: 5, truncated: true });
    expect(memo.due(NOW)).toBeUndefined();
  });
});
