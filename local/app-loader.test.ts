/** host.json's functionTimeout as the Functions host reads it, and the app setting that overrides it. */
import { describe, expect, it } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseFunctionTimeout, readAppSettings } from './app-loader.js';
import { withFunctionTimeout } from './invoke.js';

describe('functionTimeout', () => {
  it('reads [d.]hh:mm:ss TimeSpans and names a bad one', () => {
    expect(parseFunctionTimeout('00:10:00')).toBe(600_000);
    expect(parseFunctionTimeout('1.02:00:05')).toBe((26 * 3600 + 5) * 1000);
    expect(parseFunctionTimeout('00:00:01.5')).toBe(1500);
    expect(() => parseFunctionTimeout('10m')).toThrow(/functionTimeout "10m"/);
  });

  it('comes from host.json unless AzureFunctionsJobHost__functionTimeout overrides it; -1 is none', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'coracle-hostjson-'));
    await writeFile(path.join(dir, 'host.json'), JSON.stringify({ version: '2.0', functionTimeout: '00:10:00' }));
    expect((await readAppSettings(dir)).functionTimeoutMs).toBe(600_000);
    expect((await readAppSettings(dir, { AzureFunctionsJobHost__functionTimeout: '00:00:08' })).functionTimeoutMs).toBe(8000);
    expect((await readAppSettings(dir, { AzureFunctionsJobHost__functionTimeout: '-1' })).functionTimeoutMs).toBeUndefined();
  });

  it('reports an invocation that outlives it, and only that one', async () => {
    const exceeded: string[] = [];
    const timeout = { ms: 50, exceeded: (name: string, id: string) => exceeded.push(`${name}/${id}`) };
    await withFunctionTimeout(timeout, 'quick', '1', async () => undefined);
    await withFunctionTimeout(timeout, 'slow', '2', () => new Promise((r) => setTimeout(r, 150)));
    expect(exceeded).toEqual(['slow/2']);
  });
});
