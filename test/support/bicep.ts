/**
 * The Bicep compiler for tests: `.ci/bicep.sh --path` restores it from NuGet once (cached) and
 * names the executable; compileBicep builds a template to ARM JSON.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './cluster.js';

let bicepPath: string | undefined;

/** bicepExecutable returns the path of the `bicep` executable, installing it on first use. */
export function bicepExecutable(): string {
  bicepPath ??= execFileSync('bash', [path.join(REPO_ROOT, '.ci', 'bicep.sh'), '--path'], { encoding: 'utf8' }).trim();
  return bicepPath;
}

/** ArmResource is one resource of a compiled ARM template (nested deployments included). */
export interface ArmResource {
  type: string;
  name?: unknown;
  properties?: Record<string, unknown>;
  [key: string]: unknown;
}

/** compileBicep builds `template` (relative to the repository) and returns the ARM JSON. */
export function compileBicep(template: string): Record<string, unknown> {
  const json = execFileSync(bicepExecutable(), ['build', path.join(REPO_ROOT, template), '--stdout'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(json) as Record<string, unknown>;
}

/** armResources lists every resource in a compiled template, walking into nested deployments. */
export function armResources(template: Record<string, unknown>): ArmResource[] {
  const raw = template.resources;
  // Language version 2.0 templates keep resources in an object keyed by symbolic name.
  const list = (Array.isArray(raw) ? raw : Object.values((raw ?? {}) as Record<string, unknown>)) as ArmResource[];
  return list.flatMap((r) => {
    const nested = (r.properties?.template as Record<string, unknown> | undefined);
    return r.type === 'Microsoft.Resources/deployments' && nested ? [r, ...armResources(nested)] : [r];
  });
}
