import { breakdownRule, compactRule, ruleAllows, uncoveredRules, type AccessAttributes, type PolicyRule } from './rules.js';

const res = (verb: string, apiGroup: string, resource: string, extra: Partial<Extract<AccessAttributes, { resourceRequest: true }>> = {}): AccessAttributes =>
  ({ resourceRequest: true, verb, apiGroup, resource, ...extra });
const url = (verb: string, path: string): AccessAttributes => ({ resourceRequest: false, verb, path });

describe('ruleAllows (upstream RuleAllows)', () => {
  const podsRead: PolicyRule = { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] };
  test.each<[string, PolicyRule, AccessAttributes, boolean]>([
    ['exact verb, group, resource', podsRead, res('list', '', 'pods'), true],
    ['another verb', podsRead, res('delete', '', 'pods'), false],
    ['another group', podsRead, res('list', 'apps', 'pods'), false],
    ['a subresource is not the resource', podsRead, res('get', '', 'pods', { subresource: 'log' }), false],
    ['pods/log names the subresource', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, res('get', '', 'pods', { subresource: 'log' }), true],
    ['pods/log does not grant pods', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, res('get', '', 'pods'), false],
    ['*/scale matches any scale', { verbs: ['get'], apiGroups: ['apps'], resources: ['*/scale'] }, res('get', 'apps', 'deployments', { subresource: 'scale' }), true],
    ['*/scale does not match status', { verbs: ['get'], apiGroups: ['apps'], resources: ['*/scale'] }, res('get', 'apps', 'deployments', { subresource: 'status' }), false],
    ['* resource matches subresources', { verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, res('get', 'x', 'y', { subresource: 'z' }), true],
    ['* verb', { verbs: ['*'], apiGroups: [''], resources: ['secrets'] }, res('deletecollection', '', 'secrets'), true],
    ['resourceNames: the named one', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res('get', '', 'configmaps', { name: 'a' }), true],
    ['resourceNames: another name', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res('get', '', 'configmaps', { name: 'b' }), false],
    ['resourceNames: a list names nothing', { verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, res('list', '', 'configmaps'), false],
    ['a resource rule never matches a path', podsRead, url('get', '/api'), false],
    ['nonResourceURLs exact', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, url('get', '/healthz'), true],
    ['nonResourceURLs prefix *', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, url('get', '/apis/apps/v1'), true],
    ['nonResourceURLs prefix * does not match the bare prefix parent', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, url('get', '/apis'), false],
    ['nonResourceURLs * matches any', { verbs: ['get'], nonResourceURLs: ['*'] }, url('get', '/metrics'), true],
    ['nonResourceURLs verb', { verbs: ['get'], nonResourceURLs: ['*'] }, url('post', '/metrics'), false],
    ['a URL rule never matches a resource', { verbs: ['*'], nonResourceURLs: ['*'] }, res('get', '', 'pods'), false],
  ])('%s', (_name, rule, a, allowed) => expect(ruleAllows(rule, a)).toBe(allowed));
});

describe('uncoveredRules (escalation: upstream Covers)', () => {
  const admin: PolicyRule[] = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }];
  const view: PolicyRule[] = [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'pods/log', 'configmaps'] }];

  test('an owner with everything covers anything', () => {
    expect(uncoveredRules(admin, [{ verbs: ['delete'], apiGroups: ['apps'], resources: ['deployments/scale'], resourceNames: ['x'] }, { verbs: ['get'], nonResourceURLs: ['/x'] }])).toEqual([]);
  });
  test('a subset is covered; each missing piece is reported broken down', () => {
    expect(uncoveredRules(view, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])).toEqual([]);
    expect(uncoveredRules(view, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods', 'secrets'] }])).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['delete'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['delete'] },
    ]);
  });
  test('resourceNames: a named owner covers only its names; an unnamed owner covers named requests', () => {
    const named: PolicyRule[] = [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }];
    expect(uncoveredRules(named, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }])).toEqual([]);
    expect(uncoveredRules(named, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }])).toHaveLength(1);
    expect(uncoveredRules(view, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['z'] }])).toEqual([]);
  });
  test('*/sub covers every resource/sub, but not the resource', () => {
    const scale: PolicyRule[] = [{ verbs: ['get'], apiGroups: ['apps'], resources: ['*/scale'] }];
    expect(uncoveredRules(scale, [{ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments/scale', 'replicasets/scale'] }])).toEqual([]);
    expect(uncoveredRules(scale, [{ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] }])).toHaveLength(1);
  });
  test('a * verb or group asked for needs a * owned', () => {
    expect(uncoveredRules(view, [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }])).toHaveLength(1);
    expect(uncoveredRules(view, [{ verbs: ['get'], apiGroups: ['*'], resources: ['pods'] }])).toHaveLength(1);
  });
  test('non-resource URLs: a prefix owner covers longer paths', () => {
    expect(uncoveredRules([{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/apis/apps', '/apis/*'] }])).toEqual([]);
    expect(uncoveredRules([{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/api'] }])).toHaveLength(1);
  });
});

test('breakdownRule and compactRule', () => {
  expect(breakdownRule({ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] })).toEqual([
    { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] },
    { verbs: ['list'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] },
  ]);
  expect(compactRule({ verbs: ['get'], apiGroups: [''], resources: ['secrets'] })).toBe('{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}');
  expect(compactRule({ verbs: ['get'], nonResourceURLs: ['/x'] })).toBe('{NonResourceURLs:["/x"], Verbs:["get"]}');
});
