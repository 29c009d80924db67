/**
 * The node pools' cloud-init (infra/cloud-init/node.yaml), rendered the way
 * infra/modules/nodepool.bicep renders it, checked with Debian's `cloud-init schema`, its install
 * script with `shellcheck`, and its systemd unit for what the agent needs.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from '../support/cluster.js';

const template = readFileSync(path.join(REPO_ROOT, 'infra', 'cloud-init', 'node.yaml'), 'utf8');
const nodepool = readFileSync(path.join(REPO_ROOT, 'infra', 'modules', 'nodepool.bicep'), 'utf8');

const SAMPLE: Record<string, string> = {
  SERVER_URL: 'https://coracle-abc-api.azurewebsites.net',
  BOOTSTRAP_TOKEN: 'abcdef.0123456789abcdef',
  POOL_NAME: 'pool1',
  SERVICEBUS_NAMESPACE: 'coracle-abc-bus.servicebus.windows.net',
  LOGS_BLOB_ENDPOINT: 'https://coracleabc.blob.core.windows.net/',
  IDENTITY_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
  AGENT_PACKAGE_URL: 'https://coracleabc.blob.core.windows.net/agent-package/coracle.zip',
  VM_SIZE: 'Standard_B2s',
  LOCATION: 'westeurope',
  CLUSTER_CIDR: '10.244.0.0/16',
};

function render(values: Record<string, string>): string {
  return Object.entries(values).reduce((text, [k, v]) => text.split(`{{${k}}}`).join(v), template);
}

describe('node cloud-init', () => {
  it('has exactly the placeholders the node pool module fills', () => {
    const inTemplate = new Set([...template.matchAll(/\{\{([A-Z_]+)\}\}/g)].map((m) => m[1]));
    const block = /reduce\(\s*items\(\{([\s\S]*?)\}\)/.exec(nodepool)?.[1] ?? '';
    const inBicep = new Set([...block.matchAll(/^\s*([A-Z_]+):/gm)].map((m) => m[1]));
    expect([...inTemplate].sort()).toEqual([...inBicep].sort());
    expect([...inTemplate].sort()).toEqual(Object.keys(SAMPLE).sort());
  });

  it('passes `cloud-init schema` once rendered', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cloud-init-'));
    try {
      const file = path.join(dir, 'user-data');
      writeFileSync(file, render(SAMPLE));
      const out = execFileSync('cloud-init', ['schema', '-c', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toMatch(/Valid (schema|cloud-config)/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails `cloud-init schema` on a broken document (the check is real)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cloud-init-'));
    try {
      const file = path.join(dir, 'user-data');
      writeFileSync(file, render(SAMPLE).replace('package_update: true', 'package_update: "sometimes"'));
      expect(() => execFileSync('cloud-init', ['schema', '-c', file], { stdio: 'pipe' })).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const doc = YAML.parse(render(SAMPLE)) as { write_files: { path: string; content: string }[]; runcmd: string[][] };
  const fileAt = (p: string) => doc.write_files.find((f) => f.path === p)?.content ?? '';

  it('installs with a script that passes shellcheck', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cloud-init-'));
    try {
      const script = path.join(dir, 'coracle-install');
      writeFileSync(script, fileAt('/usr/local/sbin/coracle-install'));
      execFileSync('shellcheck', ['-s', 'bash', '-e', 'SC1091', script], { stdio: 'pipe' });
      expect(fileAt('/usr/local/sbin/coracle-install')).toMatch(/moby-engine/);
      expect(fileAt('/usr/local/sbin/coracle-install')).toMatch(/node_22\.x/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs `coracle agent` as a restarting systemd unit that joins with the bootstrap token', () => {
    const unit = fileAt('/etc/systemd/system/coracle-agent.service');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/coracle\/dist\/cli\/coracle\.js agent .*--bootstrap-token \$\{CORACLE_BOOTSTRAP_TOKEN\}/m);
    expect(unit).toMatch(/^Restart=always$/m);
    expect(fileAt('/etc/coracle/agent.env')).toContain(`CORACLE_BOOTSTRAP_TOKEN=${SAMPLE.BOOTSTRAP_TOKEN}`);
    expect(doc.runcmd).toContainEqual(['systemctl', 'enable', '--now', 'coracle-agent.service']);
  });

  it('runs the agent as a VM node: the cluster CIDR reaches it (an empty one, through systemd\'s `=${…}`, means none)', () => {
    const unit = fileAt('/etc/systemd/system/coracle-agent.service');
    expect(unit).toMatch(/^ExecStart=.* --cluster-cidr=\$\{CORACLE_CLUSTER_CIDR\}/m);
    expect(fileAt('/etc/coracle/agent.env')).toContain('CORACLE_CLUSTER_CIDR=10.244.0.0/16');
  });

  it('passes only options `coracle agent` has, and every variable of agent.env is used', () => {
    const unit = fileAt('/etc/systemd/system/coracle-agent.service');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    const given = [...execStart.matchAll(/ (--[a-z][a-z-]*)/g)].map((m) => m[1]);
    // The built CLI's own help lists its options (npm test builds before jest runs).
    const help = execFileSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli', 'coracle.js'), 'agent', '--help'], { encoding: 'utf8' });
    const known = new Set([...help.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]));
    expect(given).toEqual(expect.arrayContaining(['--node-name', '--server', '--bootstrap-token', '--node-pool']));
    expect(given.filter((o) => !known.has(o))).toEqual([]);
    // Each variable is read by the unit's command line, the install script, or the agent itself.
    const agentSource = readFileSync(path.join(REPO_ROOT, 'cli', 'agent.ts'), 'utf8');
    const install = fileAt('/usr/local/sbin/coracle-install');
    const vars = [...fileAt('/etc/coracle/agent.env').matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]);
    expect(vars.length).toBeGreaterThan(5);
    const unused = vars.filter((v) => !execStart.includes(`\${${v}}`) && !install.includes(`\${${v}}`) && !agentSource.includes(`process.env.${v}`));
    expect(unused).toEqual([]);
  });
});
