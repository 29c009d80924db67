import { describe, expect, it } from '@jest/globals';
import { RELEASE_VERSION, compareVersions, controlPlaneStepProblem, parseReleaseVersion, poolSkewProblem } from './version.js';

describe('release versions', () => {
  it('reads this build\'s stamp', () => {
    expect(parseReleaseVersion(RELEASE_VERSION)).toMatchObject({ major: 1, minor: 35 });
  });

  it('parses and rejects', () => {
    expect(parseReleaseVersion('v1.35.2-coracle')).toEqual({ major: 1, minor: 35, patch: 2, suffix: 'coracle' });
    expect(parseReleaseVersion('v1.36.0')).toEqual({ major: 1, minor: 36, patch: 0, suffix: '' });
    for (const bad of ['1.35.0', 'v1.35', 'v1.35.0-', 'latest', '']) expect(parseReleaseVersion(bad)).toBeUndefined();
  });

  it('orders by major, minor, patch, then suffix', () => {
    const sorted = ['v1.36.0-coracle', 'v1.35.1-coracle', 'v2.0.0', 'v1.35.0-coracle', 'v1.35.0'].sort(compareVersions);
    expect(sorted).toEqual(['v1.35.0', 'v1.35.0-coracle', 'v1.35.1-coracle', 'v1.36.0-coracle', 'v2.0.0']);
    expect(() => compareVersions('x', 'v1.0.0')).toThrow('"x" is not a release version');
  });

  it('moves the control plane one minor at a time, never back', () => {
    expect(controlPlaneStepProblem('v1.35.0-coracle', 'v1.35.1-coracle')).toBeUndefined();
    expect(controlPlaneStepProblem('v1.35.0-coracle', 'v1.36.0-coracle')).toBeUndefined();
    expect(controlPlaneStepProblem('v1.35.0-coracle', 'v1.35.0-coracle')).toBeUndefined();
    expect(controlPlaneStepProblem('v1.35.0-coracle', 'v1.37.0-coracle')).toBe('the control plane moves one minor version at a time: v1.35.0-coracle to v1.37.0-coracle skips 1 minor version(s)');
    expect(controlPlaneStepProblem('v1.35.1-coracle', 'v1.35.0-coracle')).toBe('the control plane cannot move back from v1.35.1-coracle to v1.35.0-coracle');
    expect(controlPlaneStepProblem('v1.35.0-coracle', 'v2.0.0')).toMatch(/one minor version at a time/);
    expect(controlPlaneStepProblem('', 'v1.35.0-coracle')).toBeUndefined();
    expect(controlPlaneStepProblem('v1.35.0-coracle', 'next')).toMatch(/not a release version/);
  });

  it('keeps pools no newer than the control plane and at most two minors behind', () => {
    expect(poolSkewProblem('v1.36.0-coracle', 'v1.34.5-coracle')).toBeUndefined();
    expect(poolSkewProblem('v1.36.0-coracle', 'v1.36.0-coracle')).toBeUndefined();
    expect(poolSkewProblem('v1.36.0-coracle', 'v1.33.9-coracle')).toBe('a node pool may be at most 2 minor versions behind the control plane (v1.33.9-coracle is 3 behind v1.36.0-coracle)');
    expect(poolSkewProblem('v1.35.0-coracle', 'v1.35.1-coracle')).toBe('a node pool cannot be newer than the control plane (v1.35.1-coracle > v1.35.0-coracle)');
  });
});
