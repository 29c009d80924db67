/**
 * Loading a function app the way the Azure host does: package.json `main` (a file or a glob such
 * as `dist/functions/*.js`) names the entry points, each is imported once, in path order, and
 * host.json supplies settings such as the HTTP route prefix.
 */
import { globSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** AppSettings are the host.json settings the local host honours. */
export interface AppSettings {
  /** `extensions.http.routePrefix`; Azure's default is `api`. */
  routePrefix: string;
  /**
   * `functionTimeout` in milliseconds (host.json, or the app setting
   * `AzureFunctionsJobHost__functionTimeout`, which overrides it as in Azure); undefined: none set.
   */
  functionTimeoutMs?: number;
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** parseFunctionTimeout reads a `[d.]hh:mm:ss` TimeSpan as milliseconds; anything else throws, naming it. */
export function parseFunctionTimeout(text: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(text.trim());
  if (!match) throw new Error(`functionTimeout "${text}" is not a [d.]hh:mm:ss TimeSpan`);
  const [, days, hours, minutes, seconds] = match;
  return ((Number(days ?? 0) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000;
}

/**
 * readAppSettings reads host.json; a missing host.json means Azure's defaults. `settings` (app
 * settings) may override host.json values as `AzureFunctionsJobHost__<path>` does in Azure.
 */
export async function readAppSettings(appDir: string, settings: Readonly<Record<string, string | undefined>> = {}): Promise<AppSettings> {
  const file = path.join(appDir, 'host.json');
  let hostJson: Record<string, unknown> = {};
  try {
    hostJson = await readJson(file);
  } catch (err) {
    if ((err as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw err;
  }
  const http = (hostJson.extensions as { http?: { routePrefix?: unknown } } | undefined)?.http;
  const timeout = settings.AzureFunctionsJobHost__functionTimeout ?? hostJson.functionTimeout;
  return {
    routePrefix: typeof http?.routePrefix === 'string' ? http.routePrefix : 'api',
    functionTimeoutMs: typeof timeout === 'string' && timeout !== '' && timeout !== '-1' ? parseFunctionTimeout(timeout) : undefined,
  };
}

/** entryPoints lists the files package.json `main` names, sorted; none is an error. */
export async function entryPoints(appDir: string): Promise<string[]> {
  const pkgFile = path.join(appDir, 'package.json');
  const main = (await readJson(pkgFile)).main;
  if (typeof main !== 'string' || main === '') throw new Error(`${pkgFile} has no "main" naming the function entry points`);
  const files = globSync(main, { cwd: appDir }).map((f) => path.resolve(appDir, f)).sort();
  if (files.length === 0) throw new Error(`no files match "main": "${main}" in ${appDir} (is the app built?)`);
  return files;
}

/** importEntryPoints imports each entry point (ESM dynamic import); a failing file is named in the error. */
export async function importEntryPoints(files: readonly string[]): Promise<void> {
  for (const file of files) {
    try {
      await import(pathToFileURL(file).href);
    } catch (err) {
      throw new Error(`loading ${file} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
