import { describe, expect, it } from '@jest/globals';
import { formatLabelSelector, fromLabelSelectorObject, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { isApiError } from './status.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', n: '5' };
  const m = (s: string) => matchesLabels(parseLabelSelector(s), labels);
  it('matches each operator as Kubernetes does', () => {
    expect(m('app=web')).toBe(true);
    expect(m('app==web,tier=back')).toBe(false);
    expect(m('app!=db')).toBe(true);
    expect(m('missing!=x')).toBe(true);
    expect(m('tier in (front, back)')).toBe(true);
    expect(m('tier notin (front)')).toBe(false);
    expect(m('app')).toBe(true);
    expect(m('!app')).toBe(false);
    expect(m('n>4,n<6')).toBe(true);
    expect(m('')).toBe(true);
  });
  it('refuses malformed selectors with 400', () => {
    for (const bad of ['a in b', 'a=(', '=x']) {
      try {
        parseLabelSelector(bad);
        throw new Error(`accepted ${bad}`);
      } catch (err) {
        expect(isApiError(err) && err.code).toBe(400);
      }
    }
  });
  it('converts metav1.LabelSelector objects and formats them', () => {
    const sel = fromLabelSelectorObject({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] })!;
    expect(matchesLabels(sel, { app: 'web', tier: 'b' })).toBe(true);
    expect(matchesLabels(sel, { app: 'web', tier: 'c' })).toBe(false);
    expect(formatLabelSelector(sel)).toBe('app=web,tier in (a,b)');
    expect(fromLabelSelectorObject(undefined)).toBeUndefined();
  });
});

describe('field selectors', () => {
  const p = { metadata: { name: 'a', namespace: 'ns' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
  it('matches the per-kind fields, missing fields as ""', () => {
    expect(matchesFields('Pod', parseFieldSelector('Pod', 'spec.nodeName=n1,status.phase!=Pending'), p)).toBe(true);
    expect(matchesFields('Pod', parseFieldSelector('Pod', 'spec.nodeName='), { metadata: {} })).toBe(true);
    expect(matchesFields('Pod', parseFieldSelector('Pod', 'metadata.namespace==other'), p)).toBe(false);
  });
  it('refuses fields the kind does not register', () => {
    expect(() => parseFieldSelector('ConfigMap', 'spec.nodeName=x')).toThrow('field label not supported: spec.nodeName');
  });
});
