/**
 * One configuration: the Function App's app settings in the compiled templates (bicep build of
 * infra/main.bicep) against functions/settings.ts, and that list against what the code reads.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { APP_SETTINGS } from '../../functions/settings.js';
import { armResources, compileBicep } from '../support/bicep.js';
import { REPO_ROOT } from '../support/cluster.js';

/** settingsReadByCode finds the app settings functions/*.ts read (the composition root and the triggers). */
function settingsReadByCode(): Set<string> {
  const dir = path.join(REPO_ROOT, 'functions');
  const names = new Set<string>();
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'settings.ts').map((f) => path.join(dir, f));
  // functions/config.ts hands the settings to these readers in the core.
  files.push(path.join(REPO_ROOT, 'shared', 'apiserver', 'inflight.ts'));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    // Helpers that take the settings and a name: positiveSeconds(settings, 'NAME', …), read('NAME', …).
    for (const m of text.matchAll(/(?:\(settings, |\bread\()'([A-Z][A-Za-z0-9_]*)'/g)) names.add(m[1]);
    for (const m of text.matchAll(/(?:settings|process\.env)\.([A-Z][A-Za-z0-9_]*)/g)) names.add(m[1]);
    for (const m of text.matchAll(/%([A-Z][A-Z0-9_]*)%/g)) names.add(m[1]);
    for (const m of text.matchAll(/connection: '([A-Za-z0-9_]+)'/g)) names.add(m[1]);
    // Destructuring: `const { CORACLE_LOGS: local, … } = settings`.
    for (const m of text.matchAll(/\{([^{}]*)\}\s*=\s*settings\b/g)) for (const k of m[1].matchAll(/([A-Z][A-Za-z0-9_]*)\s*:/g)) names.add(k[1]);
  }
  return names;
}

function functionAppSettings(): string[] {
  const sites = armResources(compileBicep('infra/main.bicep')).filter((r) => r.type === 'Microsoft.Web/sites');
  expect(sites).toHaveLength(1);
  const settings = (sites[0].properties?.siteConfig as { appSettings: { name: string }[] }).appSettings;
  return settings.map((s) => s.name);
}

describe('app settings: Bicep, functions/settings.ts and the code agree', () => {
  const written = functionAppSettings();
  const read = settingsReadByCode();
  const listed = new Map(APP_SETTINGS.map((s) => [s.name, s]));

  it('Bicep writes every setting listed for Azure, and only those', () => {
    const forAzure = APP_SETTINGS.filter((s) => s.azure).map((s) => s.name).sort();
    expect([...written].sort()).toEqual(forAzure);
    expect(new Set(written).size).toBe(written.length);
  });

  it('every setting the code reads is listed', () => {
    expect([...read].filter((name) => !listed.has(name)).sort()).toEqual([]);
  });

  it('every setting listed as read by the code is read (or names its pending reader)', () => {
    const unread = APP_SETTINGS.filter((s) => s.readBy === 'code' && !read.has(s.name) && !s.readerPending).map((s) => s.name);
    expect(unread).toEqual([]);
    const pending = APP_SETTINGS.filter((s) => s.readerPending && !read.has(s.name));
    // Said plainly in the output: Bicep writes these, and the code does not read them yet.
    for (const s of pending) process.stderr.write(`settings: ${s.name} is written by Bicep but not read yet: ${s.readerPending}\n`);
    expect(pending.every((s) => s.azure)).toBe(true);
  });

  it('the change-feed trigger\'s connection is written in its identity-based form', () => {
    const connection = /connection: '([A-Za-z0-9_]+)'/.exec(readFileSync(path.join(REPO_ROOT, 'functions', 'changefeed.ts'), 'utf8'))?.[1];
    expect(written).toContain(`${connection}__accountEndpoint`);
  });
});
