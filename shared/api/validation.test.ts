import { describe, expect, it } from '@jest/globals';
import { RESOURCES } from './resources.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, validateObject } from './validation.js';

const r = (kind: string) => RESOURCES.find((x) => x.kind === kind)!;

describe('name rules', () => {
  it('follow RFC 1123 / 1035 as Kubernetes does', () => {
    expect(isDNS1123Subdomain('web.example-1')).toEqual([]);
    expect(isDNS1123Subdomain('Web')).toHaveLength(1);
    expect(isDNS1123Subdomain('a'.repeat(254))).toContain('must be no more than 253 characters');
    expect(isDNS1123Label('a.b')).toHaveLength(1);
    expect(isDNS1035Label('1abc')).toHaveLength(1);
    expect(isDNS1035Label('abc-1')).toEqual([]);
  });
  it('check label keys and values', () => {
    expect(isQualifiedName('example.com/app_Name')).toEqual([]);
    expect(isQualifiedName('a/b/c')).toHaveLength(1);
    expect(isQualifiedName('Example.com/x')[0]).toMatch(/^prefix part/);
    expect(isValidLabelValue('')).toEqual([]);
    expect(isValidLabelValue('x'.repeat(64))).toContain('must be no more than 63 characters');
    expect(isValidLabelValue('-x')).toHaveLength(1);
  });
});

describe('validateObject', () => {
  it('reports field paths for a bad pod', () => {
    const causes = validateObject(r('Pod'), {
      metadata: { name: 'p', namespace: 'd', annotations: { big: 'x'.repeat(256 * 1024) } },
      spec: { restartPolicy: 'Sometimes', containers: [{ name: 'a', image: 'i' }, { name: 'a' }] },
    });
    expect(causes.map((c) => `${c.field}:${c.reason}`)).toEqual([
      'metadata.annotations:FieldValueTooLong',
      'spec.containers[1].name:FieldValueDuplicate',
      'spec.containers[1].image:FieldValueRequired',
      'spec.restartPolicy:FieldValueNotSupported',
    ]);
  });
  it('requires namespace names to be labels and services to be DNS-1035', () => {
    expect(validateObject(r('Namespace'), { metadata: { name: 'a.b' } })[0].field).toBe('metadata.name');
    expect(validateObject(r('Service'), { metadata: { name: '1svc', namespace: 'd' }, spec: { ports: [{ port: 80 }] } })[0].field).toBe('metadata.name');
  });
  it('makes the deployment selector immutable', () => {
    const d = (app: string) => ({ metadata: { name: 'd', namespace: 'n' }, spec: { selector: { matchLabels: { app } },
      template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } });
    expect(validateObject(r('Deployment'), d('a'))).toEqual([]);
    expect(validateObject(r('Deployment'), d('b'), d('a'))[0]).toMatchObject({ field: 'spec.selector', message: expect.stringContaining('field is immutable') });
  });
});
