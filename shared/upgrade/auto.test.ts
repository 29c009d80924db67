import { describe, expect, it } from '@jest/globals';
import { autoUpgradeProblems, autoUpgradeTarget, windowState } from './auto.js';

const catalog = ['v1.33.0-coracle', 'v1.33.4-coracle', 'v1.34.0-coracle', 'v1.34.2-coracle', 'v1.35.0-coracle', 'v1.35.1-coracle', 'v1.36.0-coracle', 'v1.36.3-coracle'];

describe('autoUpgradeTarget', () => {
  it('none (or no channel) picks nothing', () => {
    expect(autoUpgradeTarget('none', 'v1.35.0-coracle', catalog)).toBeUndefined();
    expect(autoUpgradeTarget(undefined, 'v1.35.0-coracle', catalog)).toBeUndefined();
  });

  it('patch picks the newest release of the same minor, never another minor', () => {
    expect(autoUpgradeTarget('patch', 'v1.35.0-coracle', catalog)).toBe('v1.35.1-coracle');
    expect(autoUpgradeTarget('patch', 'v1.35.1-coracle', catalog)).toBeUndefined();
    expect(autoUpgradeTarget('patch', 'v1.33.0-coracle', catalog)).toBe('v1.33.4-coracle');
  });

  it('stable picks the newest patch of minor N-1 (N the newest minor), one minor at a time', () => {
    // N = 36: stable is 35.
    expect(autoUpgradeTarget('stable', 'v1.34.2-coracle', catalog)).toBe('v1.35.1-coracle');
    expect(autoUpgradeTarget('stable', 'v1.35.0-coracle', catalog)).toBe('v1.35.1-coracle');
    // Two minors behind: the next minor first (the control plane moves one minor at a time).
    expect(autoUpgradeTarget('stable', 'v1.33.4-coracle', catalog)).toBe('v1.34.2-coracle');
    // Already at N: only patches of its own minor, never back.
    expect(autoUpgradeTarget('stable', 'v1.36.0-coracle', catalog)).toBe('v1.36.3-coracle');
    expect(autoUpgradeTarget('stable', 'v1.35.1-coracle', catalog)).toBeUndefined();
  });
});

describe('windowState', () => {
  const window = { days: ['Saturday', 'Sunday'], startTime: '22:00', durationHours: 4, utcOffset: '+02:00' };

  it('without a window it is always open', () => {
    expect(windowState(undefined, new Date('2026-12-02T12:00:00Z'))).toEqual({ open: true, changesInMs: Infinity });
  });

  it('is open from the local start for its duration, across midnight, and says when it closes', () => {
    // Saturday 22:00 at +02:00 is 20:00 UTC; open until Sunday 02:00 local (00:00 UTC).
    const s = windowState(window, new Date('2026-12-05T23:30:00Z'));
    expect(s.open).toBe(true);
    expect(s.openedAt).toEqual(new Date('2026-12-05T20:00:00Z'));
    expect(s.changesInMs).toBe(30 * 60_000);
  });

  it('is closed outside, and says when it next opens (a day it allows)', () => {
    // Wednesday noon UTC: the next window is Saturday 20:00 UTC.
    const s = windowState(window, new Date('2026-12-02T12:00:00Z'));
    expect(s.open).toBe(false);
    expect(s.changesInMs).toBe(new Date('2026-12-05T20:00:00Z').getTime() - new Date('2026-12-02T12:00:00Z').getTime());
    // Every day when no days are given.
    expect(windowState({ startTime: '03:00', durationHours: 1 }, new Date('2026-12-02T02:00:00Z')).changesInMs).toBe(3_600_000);
  });
});

describe('autoUpgradeProblems', () => {
  it('accepts a good spec and none', () => {
    expect(autoUpgradeProblems(undefined)).toEqual([]);
    expect(autoUpgradeProblems({ channel: 'patch', maintenanceWindow: { days: ['Monday'], startTime: '01:30', durationHours: 4, utcOffset: '-05:30' } })).toEqual([]);
  });

  it('names every bad field as the API server would', () => {
    expect(autoUpgradeProblems({ channel: 'rapid', maintenanceWindow: { days: ['Funday'], startTime: '25:00', durationHours: 0, utcOffset: 'CET' } }).map((p) => `${p.field} ${p.reason}`)).toEqual([
      'spec.autoUpgrade.channel FieldValueNotSupported',
      'spec.autoUpgrade.maintenanceWindow.startTime FieldValueInvalid',
      'spec.autoUpgrade.maintenanceWindow.durationHours FieldValueInvalid',
      'spec.autoUpgrade.maintenanceWindow.utcOffset FieldValueInvalid',
      'spec.autoUpgrade.maintenanceWindow.days[0] FieldValueNotSupported',
    ]);
    expect(autoUpgradeProblems({ maintenanceWindow: {} }).map((p) => `${p.field} ${p.reason}`)).toEqual([
      'spec.autoUpgrade.maintenanceWindow.startTime FieldValueRequired',
      'spec.autoUpgrade.maintenanceWindow.durationHours FieldValueRequired',
    ]);
  });
});
