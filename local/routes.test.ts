import { compareRoutes, compileRoute } from './routes.js';

describe('compileRoute', () => {
  test.each([
    ['items/{id:int}', '/items/42', { id: '42' }],
    ['items/{id:int}', '/items/4x', undefined],
    ['items/{id:int}', '/items/99999999999', undefined],
    ['items/{id:long}', '/items/99999999999', { id: '99999999999' }],
    ['items/{name}', '/ITEMS/Ab', { name: 'Ab' }],
    ['items/{name}', '/items/a%20b', { name: 'a b' }],
    ['items/{name}', '/items', undefined],
    ['items/{name}', '/items/a/b', undefined],
    ['items/{name?}', '/items', {}],
    ['items/{name=all}', '/items', { name: 'all' }],
    ['files/{*rest}', '/files', {}],
    ['files/{*rest}', '/files/a/b/c', { rest: 'a/b/c' }],
    ['files/{**rest}', '/files/a%2Fb', { rest: 'a%2Fb' }],
    ['{*path}', '/', {}],
    ['{*path}', '/api/v1/pods', { path: 'api/v1/pods' }],
    ['{file}.{ext}', '/report.pdf', { file: 'report', ext: 'pdf' }],
    ['v/{n:min(1):max(3)}', '/v/3', { n: '3' }],
    ['v/{n:min(1):max(3)}', '/v/4', undefined],
    ['v/{s:alpha:minlength(2)}', '/v/ab', { s: 'ab' }],
    ['v/{s:alpha:minlength(2)}', '/v/a', undefined],
    ['v/{s:regex(^(livez|readyz)$)}', '/v/readyz', { s: 'readyz' }],
    ['v/{s:regex(^(livez|readyz)$)}', '/v/other', undefined],
    ['v/{b:bool}', '/v/True', { b: 'True' }],
    ['v/{g:guid}', '/v/3f2504e0-4f89-11d3-9a0c-0305e82c3301', { g: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' }],
    ['v/{x:length(2,3)}', '/v/abcd', undefined],
    ['', '/', {}],
  ])('%s matches %s as %j', (template, path, expected) => {
    expect(compileRoute(template).match(path)).toEqual(expected);
  });

  test('an unknown constraint or a misplaced catch-all fails the compile, naming the problem', () => {
    expect(() => compileRoute('x/{id:nope}')).toThrow(/unsupported route constraint "nope"/);
    expect(() => compileRoute('{*a}/b')).toThrow(/catch-all must be the last segment/);
    expect(() => compileRoute('x/{id')).toThrow(/unbalanced/);
  });
});

describe('compareRoutes', () => {
  test('orders literals before constrained parameters before parameters before catch-alls', () => {
    const templates = ['{*path}', 'items/{name}', 'items/{id:int}', 'items/all', '{check:regex(^livez$)}/{*rest}'];
    const sorted = templates.map(compileRoute).sort(compareRoutes).map((r) => r.template);
    expect(sorted).toEqual(['items/all', 'items/{id:int}', 'items/{name}', '{check:regex(^livez$)}/{*rest}', '{*path}']);
  });
});
