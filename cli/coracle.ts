#!/usr/bin/env node
/**
 * The `coracle` command. `coracle up` runs a local cluster (see up.ts).
 * Exit codes: 0 after a clean stop, 1 when the cluster cannot start (the message says why and
 * names the file at fault), 2 for bad arguments.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { spawn } from 'node:child_process';
import { APP_DIR, up, type UpOptions } from './up.js';
import { controlPlaneRelease, releaseToRun, type ReleaseToRun } from '../local/control-plane.js';
import { connectionsFromParent, feedChild, HeldListener } from '../local/listener.js';
import { RELEASE_VERSION } from '../shared/release/version.js';
import { runImagesBuild } from './images.js';
import { agentCommand } from './agent.js';
import { runCost } from './cost.js';
import { nodeCommand, tokenCommand } from './tokens.js';
import { releaseCommands } from './release.js';
import { upgradeCommand } from './upgrade.js';
import { secretsCommand } from './secrets.js';
import { getTokenCommand, kubeconfigCommand } from './signin.js';
import { adminTokenCommand } from './admin-token.js';

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** durationSeconds parses a Go-style duration of whole seconds or minutes (`40s`, `2m`, `1m30s`) or plain seconds. */
function durationSeconds(value: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s?)?$/.exec(value);
  const seconds = m && (m[1] !== undefined || m[2] !== undefined) ? Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) : NaN;
  if (!(seconds > 0)) throw new InvalidArgumentError('expected a positive duration such as 40s, 2m or 1m30s');
  return seconds;
}

function fail(err: unknown): never {
  process.stderr.write(`coracle: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
}

/** HANDOVER is the message a handed-over `coracle up` sends its parent when it hands over in turn. */
const HANDOVER = 'coracle.up.handover';
interface HandoverMessage { type: typeof HANDOVER; release: ReleaseToRun; args: string[] }
/** HANDED_OVER_ENV marks a `coracle up` that another one started (handOver), with an IPC channel to it. */
const HANDED_OVER_ENV = 'CORACLE_UP_HANDED_OVER';
const handedOver = () => process.env[HANDED_OVER_ENV] === '1' && process.send !== undefined;

/**
 * handOver runs release `release`'s own `coracle up` with `args` in place of this process: its
 * output is this process's, signals are passed on, its exit code is this process's. Over the IPC
 * channel it learns when this process dies (even by kill -9) and stops. When that child hands over
 * in turn (the next upgrade), it asks this process to start the next release once it has stopped,
 * so that there is never more than one process waiting.
 */
function handOver(release: ReleaseToRun, args: string[], held: HeldListener): void {
  const child = spawn(process.execPath, [...process.execArgv, release.cli, ...args], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: { ...process.env, [HANDED_OVER_ENV]: '1' } });
  // The child serves this process's port: connections wait here until it is ready, and again from its own handover on.
  const feeding = feedChild(held, child);
  let next: HandoverMessage | undefined;
  child.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === HANDOVER) {
      next = m as HandoverMessage;
      feeding.stopFeeding();
    }
  });
  const forward = (signal: NodeJS.Signals) => {
    next = undefined;
    child.kill(signal);
  };
  process.on('SIGINT', forward).on('SIGTERM', forward);
  child.once('exit', (code, signal) => {
    process.off('SIGINT', forward).off('SIGTERM', forward);
    if (next && code === 0) handOver(next.release, next.args, held);
    else process.exit(code ?? (signal ? 1 : 0));
  });
}

/**
 * runUp starts the cluster and keeps it until SIGINT or SIGTERM. The control plane runs the
 * release its data folder records (local/control-plane.ts): if that is another one than this
 * build, that release's `coracle up` runs instead (the Azure-shaped mode's supervisor instead
 * starts its instances from it). When an upgrade moves the control plane, this cluster stops —
 * leaving the nodes' containers running — and the new release's takes over, on the same port.
 */
async function runUp(options: UpOptions): Promise<void> {
  // One process: the port is bound here once and held across handovers (local/listener.ts), so
  // requests made while the control plane moves wait instead of being refused.
  let held: HeldListener | undefined;
  if (!options.instances) {
    if (handedOver()) options.connections = connectionsFromParent(options.port);
    else options.connections = held = await HeldListener.open(options.port, options.host).catch(fail);
    const recorded = await controlPlaneRelease(options.dataDir).catch(fail);
    if (held && recorded && recorded !== RELEASE_VERSION) {
      handOver(await releaseToRun(options.dataDir, APP_DIR, recorded).catch(fail), [...process.argv.slice(2), '--port', String(held.port)], held);
      return;
    }
  }
  // Handlers first: a signal that arrives while starting (or right after the ready line, while
  // start-up work still runs) must stop the cluster cleanly, not kill it.
  let stopping = false;
  const onMove = (release: ReleaseToRun, port: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`coracle: the control plane moves onto release ${release.version}; handing over\n`);
    // A signal now ends the handover: the cluster stops and nothing takes over.
    let cancelled = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, stop).once(signal, () => (cancelled = true));
    const args = [...process.argv.slice(2), '--port', String(port)];
    // A handed-over process asks its parent to start the next release, and ends.
    if (handedOver()) process.send!({ type: HANDOVER, release, args } satisfies HandoverMessage);
    starting.then((host) => host.stop({ keepEngine: true })).then(
      () => (cancelled || !held ? process.exit(0) : handOver(release, args, held)),
      (err: unknown) => fail(err),
    );
  };
  const starting = up({ ...options, onMove }).catch(fail);
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1); // a second signal: stop waiting
    stopping = true;
    process.stderr.write(`coracle: ${signal} received, stopping\n`);
    starting.then((host) => host.stop()).then(
      () => process.exit(0),
      (err: unknown) => fail(err),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Started by an earlier release's `coracle up` (handOver): stop when it goes.
  if (handedOver()) process.once('disconnect', () => stop('SIGTERM'));
  await starting;
}

const program = new Command()
  .name('coracle')
  .description('A Kubernetes-style control plane, serverless on Azure or on one machine.')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program
  .command('up')
  .description('run a local cluster: API server on SQLite under the data folder, served over HTTPS')
  .option('--port <port>', 'HTTPS port (0: any free port)', integer(0, 65535), 6443)
  .option('--data-dir <dir>', 'data folder (store, certificates, token, kubeconfig)', '.coracle')
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--nodes <n>', 'number of local nodes', integer(0, 10000), 0)
  .addOption(new Option('--runtime <runtime>', 'how nodes run containers').choices(['moby', 'simulated']))
  .option('--node-monitor-grace-period <duration>', 'how long a node may stop renewing its Lease before it is NotReady (Unknown) and tainted unreachable (default 40s)', durationSeconds)
  .option('--default-toleration-seconds <n>', 'tolerationSeconds of the not-ready/unreachable tolerations new pods get: how long they stay on such a node before eviction (default 300)', integer(0, 86400 * 365))
  .option('--min-request-timeout <seconds>', 'a watch ends after a random time between this and twice this, as kube-apiserver\'s flag; it must stay under the function timeout (default 240)', integer(1, 86400))
  .option('--watch-keepalive <seconds>', 'how often a quiet watch gets a keep-alive (default 30)', integer(1, 3600))
  .option('--oidc-issuer-url <url>', 'sign users in with tokens of this OpenID Connect issuer (kube-apiserver\'s flag; https, or http on loopback)')
  .option('--oidc-client-id <id>', 'the audience OIDC tokens must carry')
  .option('--oidc-username-claim <claim>', 'the claim naming the user (default sub)')
  .option('--oidc-username-prefix <prefix>', 'prefix of OIDC usernames (default: <issuer># unless the claim is email; - for none)')
  .option('--oidc-groups-claim <claim>', 'the claim listing the user\'s groups')
  .option('--oidc-groups-prefix <prefix>', 'prefix of OIDC groups')
  .option('--oidc-required-claim <claim=value>', 'a claim every OIDC token must carry with this value (repeatable)', (v: string, all: string[] = []) => [...all, v])
  .option('--oidc-signing-algs <algs>', 'JWS algorithms OIDC tokens may be signed with, comma-separated (default RS256)')
  .option('--oidc-ca-file <file>', 'the CA (PEM) of the OIDC issuer\'s serving certificate')
  .option('--cluster-cidr <cidr>', 'give each node a pod CIDR (spec.podCIDR, a /24) out of this range, as kube-controller-manager\'s --cluster-cidr (default: none; local nodes share one Docker bridge and do not use it)')
  .option('--instances <n>', 'run Azure-shaped: n HTTP host processes behind one HTTPS front, plus a durable and a change feed/timers process, on the Cosmos DB emulator and Azurite', integer(1, 64))
  .action((options: UpOptions) => runUp(options));

program.command('images').description('sample images').command('build').description('build the sample images (images/) into a Docker engine').option('--docker-host <host>', 'the engine, unix:///path (default: DOCKER_HOST, else /var/run/docker.sock)').action((options: { dockerHost?: string }) => runImagesBuild(options).catch(fail));

program.command('cost').description('what the Azure deployment costs: idle per month, and per 1,000 API writes (list prices in cli/cost-prices.json)').action(() => runCost().catch(fail));

program.addCommand(agentCommand());
program.addCommand(tokenCommand());
program.addCommand(nodeCommand());
for (const command of releaseCommands(fail)) program.addCommand(command);
program.addCommand(upgradeCommand(fail));
program.addCommand(secretsCommand(fail));
program.addCommand(getTokenCommand(fail));
program.addCommand(kubeconfigCommand(fail));
program.addCommand(adminTokenCommand(fail));

await program.parseAsync(process.argv);
