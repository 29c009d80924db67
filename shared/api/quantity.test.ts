import { describe, expect, it } from '@jest/globals';
import { integerValue, milliValue, parseQuantity } from './quantity.js';

describe('parseQuantity', () => {
  it('reads binary and decimal suffixes, milli, plain numbers and exponents', () => {
    expect(['128Mi', '1Gi', '2Ki', '500m', '2', '1.5', '1k', '2e3', '100M', '3G', '1E', '.5', '1.5e-3', '250u', '5n'].map(parseQuantity))
      .toEqual([134217728, 1073741824, 2048, 0.5, 2, 1.5, 1000, 2000, 1e8, 3e9, 1e18, 0.5, 0.0015, 0.00025, 5e-9]);
  });

  it('passes numbers through and rejects what is not a quantity', () => {
    expect(parseQuantity(4)).toBe(4);
    for (const bad of ['lots', '1KB', '1 Gi', 'Mi', '', '1.2.3']) expect(parseQuantity(bad)).toBeUndefined();
    expect(parseQuantity(undefined)).toBeUndefined();
  });
});

describe('milliValue and integerValue', () => {
  it('give exact integers where floating point would drift', () => {
    expect(['100m', '0.1', '0.3', '1', '2.5', '1500m'].map(milliValue)).toEqual([100, 100, 300, 1000, 2500, 1500]);
    // Ten requests of 0.1 cpu fill exactly one core.
    expect(Array.from({ length: 10 }, () => milliValue('0.1')).reduce((a, b) => a + b)).toBe(milliValue('1'));
  });

  it('round up as Kubernetes does', () => {
    expect(milliValue('0.1m')).toBe(1);
    expect(milliValue('1.0001')).toBe(1001);
    expect(integerValue('1.5')).toBe(2);
    expect(integerValue('1.5Ki')).toBe(1536);
    expect(integerValue('128Mi')).toBe(134217728);
  });

  it('read absent or invalid quantities as zero', () => {
    expect(milliValue(undefined)).toBe(0);
    expect(integerValue('nonsense')).toBe(0);
  });
});
