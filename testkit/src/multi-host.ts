/**
 * The production topology on separate hosts, for real: Linux network namespaces wired like compose's two networks,
 *
 *   internet ──public 203.0.113.0/24── edge ──private 10.89.0.0/24── app1, app2, db
 *
 * - internet: the attacker's and the users' side; extra source addresses for load clients (clientAddress()).
 * - edge: nginx with the repository's template rendered exactly as the single-machine topology renders it
 *   (topology.ts, nginx-render.ts), TLS on ports 80 and 443 of its public address, its health port on its loopback;
 *   dnsmasq on its loopback answering `api.internal` with both app addresses, which nginx resolves at request time
 *   (RESOLVER) and round-robins over, as compose's and Kubernetes' DNS make it do.
 * - app1, app2: the built API (server/dist/main.js) with production settings: DEBUG=false, ALLOWED_HOSTS=domain,
 *   TRUST_PROXY = edge's private address exactly.
 * - db: a PostgreSQL cluster this run creates and owns (pg-cluster.ts), listening on db's private address, pg_hba
 *   open to the two app addresses only; the test's admin access is its unix socket (not namespaced).
 * Bridges live in a "switch" namespace; the root namespace is attached to nothing. IPv6 is off everywhere. Firewalls,
 * the switch's anti-spoofing rules (each port may send only from its host's own MAC and addresses) included:
 * multi-host-firewall.ts.
 *
 *   const hosts = await startMultiHost();      // ~5-10 s
 *   try { await hosts.probe('internet', 'connect', {...}) } finally { await hosts.stop(); }
 *
 * Everything is removed on stop(), on process exit, on SIGINT/SIGTERM/SIGHUP, and (namespaces and temp dirs of a
 * dead pid, its PostgreSQL cluster's included) by the next run. Needs root, iproute2, nftables, dnsmasq, nginx,
 * openssl, envsubst, nmap/nping (the tests) and PostgreSQL's server binaries (multiHostGate below).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STRONG_KEY } from './accounts.js';
import { type Gate, gateFor, REPO, requireTool } from './gate.js';
import {
  ADDRESS,
  API_PORT,
  appRules,
  clientAddress,
  dbRules,
  EDGE_HEALTH,
  EDGE_PRIVATE_IF,
  EDGE_PUBLIC_IF,
  edgeRules,
  PG_PORT,
  type SwitchPort,
  switchRules,
} from './multi-host-firewall.js';
import { macOf, NamespaceSet, removeDeadRuns, spawnIn, tail } from './netns.js';
import type { Target } from './netns-http.js';
import type { LoadConfig, LoadReport } from './netns-load.js';
import { makeCertificate, renderTemplates, type TemplateValues, writeMainConfig } from './nginx-render.js';
import { clusterGate, createCluster, findPgBin, type PgCluster } from './pg-cluster.js';
import { type Running, start as startServer } from './process.js';
import { ensureClientBuilt, type RunningNginx, startNginx, stopNginx } from './topology.js';

export * from './multi-host-firewall.js';

export const HOSTS = ['internet', 'edge', 'app1', 'app2', 'db'] as const;
export type Host = (typeof HOSTS)[number];
export type AppName = 'app1' | 'app2';
export const API_NAME = 'api.internal';
export const DEFAULT_DOMAIN = 'ironclad.test';

const TSX = join(REPO, 'node_modules/.bin/tsx');
const PROBE = join(REPO, 'testkit/src/netns-probe.ts');
const DIR_PREFIX = 'ironclad-multihost-';

export interface MultiHostOptions {
  domain?: string;
  /** Extra source addresses on internet's interface (203.0.113.100 and up); default 32. */
  clients?: number;
  /** Extra or overriding API settings. */
  serverEnv?: Record<string, string>;
}

export interface RunningLoad {
  /** Stops the clients (they finish the request in hand) and returns their report. */
  stop: () => Promise<LoadReport>;
}

export interface MultiHost {
  domain: string;
  /** Namespace of each host (`ip netns exec <ns> ...`). */
  ns: Record<Host | 'switch', string>;
  prefix: string;
  clientAddresses: string[];
  /** nginx's HTTPS listener as the internet sees it (netns-probe.ts requests/load). */
  target: Target;
  /** An app's own listener as edge sees it (readiness checks). */
  appTarget: (name: AppName) => Target;
  /** PEM of nginx's self-signed certificate, and its file. */
  ca: string;
  certPath: string;
  dir: string;
  cluster: PgCluster;
  database: string;
  /** Milliseconds from the call to a serving topology. */
  startMs: number;
  /** Runs netns-probe.ts inside a host; its JSON answer. */
  probe: <T = unknown>(host: Host, command: string, input: unknown, timeoutMs?: number) => Promise<T>;
  /** Steady load from internet through nginx (netns-load.ts); resolves once the clients are running. */
  load: (config: Omit<LoadConfig, 'target'>) => Promise<RunningLoad>;
  /** Sends SIGTERM (drain, then exit) or SIGKILL to an app; resolves when it has exited, with how long that took. */
  stopApp: (name: AppName, signal: 'SIGTERM' | 'SIGKILL') => Promise<{ code: number | null; ms: number }>;
  /** Starts an app again; resolves once its process listens (readiness is for the caller to wait for). */
  startApp: (name: AppName) => Promise<{ ms: number }>;
  /**
   * A bare TCP listener on 0.0.0.0:`port` inside a host (a canary: a service someone started by mistake), which
   * only that host's firewall keeps from the others; resolves once it listens.
   */
  canary: (host: Host, port: number) => Promise<{ stop: () => Promise<void> }>;
  /** The switch's ports: each host's bridge port, its MAC and the addresses it may send from (switchRules). */
  switchPorts: SwitchPort[];
  /** Everything an app has written, over all its runs. */
  appOutput: (name: AppName) => string;
  output: () => { nginx: string; dnsmasq: string; app1: string; app2: string };
  /** Stops everything and removes every namespace and file; resolves with how long that took. */
  stop: () => Promise<{ ms: number }>;
}

/**
 * The gate of every suite that runs this topology: namespaces permitted (root, `ip netns add` works), the network
 * tools (REQUIRE_NETNS), nginx and friends (REQUIRE_NGINX), PostgreSQL's server binaries (REQUIRE_POSTGRES).
 */
export async function multiHostGate(suite: string): Promise<Gate> {
  const gate = await gateFor(suite, ['netns', 'ip', 'nft', 'dnsmasq', 'nmap', 'nping', 'nginx', 'openssl', 'envsubst']);
  if (gate.skip) return gate;
  return clusterGate(suite);
}

/** Topologies not yet stopped: torn down synchronously on exit or a fatal signal. */
const live = new Set<() => void>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const teardown of live) teardown();
  });
  // SIGHUP too: an SSH session that drops takes `npm run topology -- --multi-host` with it.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      // A program that handles the signal itself (serve-topology.ts) stops the topology its own way.
      if (process.listenerCount(signal) > 1) return;
      for (const teardown of live) teardown();
      // Then die of the signal as we would have without this handler.
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * Removes the temp directories of runs whose process is gone: the run's own and its PostgreSQL cluster's
 * (`ironclad-multihost-<pid>-pg-*`, ~40 MB). Returns their names.
 */
export function removeDeadDirs(): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    const match = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name);
    if (!match) continue;
    try {
      process.kill(Number(match[1]), 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') {
        rmSync(join(tmpdir(), name), { recursive: true, force: true });
        removed.push(name);
      }
    }
  }
  return removed;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs: number, detail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`${what} did not start within ${timeoutMs} ms:\n${detail()}`);
}

/** Runs the probe script in a namespace and parses the last line it prints. */
function runProbe<T>(ns: string, command: string, input: unknown, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawnIn(ns, TSX, [PROBE, command, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last) {
        reject(new Error(`probe ${command} in ${ns} failed (${signal ?? `exit ${code}`}): ${stderr}${stdout}`));
        return;
      }
      resolve(JSON.parse(last) as T);
    });
  });
}

export async function startMultiHost(options: MultiHostOptions = {}): Promise<MultiHost> {
  const started = performance.now();
  const domain = options.domain ?? DEFAULT_DOMAIN;
  const clientCount = options.clients ?? 32;
  removeDeadRuns();
  removeDeadDirs();
  const webRoot = ensureClientBuilt();
  if (!findPgBin()) throw new Error('no PostgreSQL server binaries (apt-get install postgresql)');

  const set = new NamespaceSet();
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  const children = new Set<ChildProcess>();
  let cluster: PgCluster | undefined;
  const teardownSync = () => {
    for (const child of children) child.kill('SIGKILL');
    cluster?.destroySync();
    set.destroySync();
    rmSync(dir, { recursive: true, force: true });
  };
  live.add(teardownSync);
  hookExit();

  try {
    // Hosts, and the two networks: bridges in the switch namespace, a veth pair from each host to its bridge.
    const sw = set.add('switch');
    const ns = { switch: sw } as Record<Host | 'switch', string>;
    for (const host of HOSTS) ns[host] = set.add(host);
    set.bridge(sw, 'br-pub');
    set.bridge(sw, 'br-priv');
    const clientAddresses = Array.from({ length: clientCount }, (_, i) => clientAddress(i));
    set.plug(sw, 'br-pub', 'pub-internet', ns.internet, 'eth0', [
      `${ADDRESS.internet}/24`,
      ...clientAddresses.map((address) => `${address}/24`),
    ]);
    set.plug(sw, 'br-pub', 'pub-edge', ns.edge, EDGE_PUBLIC_IF, [`${ADDRESS.edgePublic}/24`]);
    set.plug(sw, 'br-priv', 'priv-edge', ns.edge, EDGE_PRIVATE_IF, [`${ADDRESS.edgePrivate}/24`]);
    for (const host of ['app1', 'app2', 'db'] as const) {
      set.plug(sw, 'br-priv', `priv-${host}`, ns[host], 'eth0', [`${ADDRESS[host]}/24`]);
    }
    // No host forwards, edge above all (no route is not enough: an attacker on the public network can add one).
    for (const host of HOSTS) set.sysctl(ns[host], 'net.ipv4.ip_forward', '0');
    const nft = requireTool('nft');
    // The switch lets each host send only from its own MAC and addresses (anti-spoofing, ARP inspection).
    const switchPorts: SwitchPort[] = [
      { port: 'pub-internet', mac: macOf(ns.internet, 'eth0'), addresses: [ADDRESS.internet, ...clientAddresses] },
      { port: 'pub-edge', mac: macOf(ns.edge, EDGE_PUBLIC_IF), addresses: [ADDRESS.edgePublic] },
      { port: 'priv-edge', mac: macOf(ns.edge, EDGE_PRIVATE_IF), addresses: [ADDRESS.edgePrivate] },
      ...(['app1', 'app2', 'db'] as const).map((host) => ({
        port: `priv-${host}`,
        mac: macOf(ns[host], 'eth0'),
        addresses: [ADDRESS[host]],
      })),
    ];
    set.nft(sw, switchRules(switchPorts), nft);
    set.nft(ns.edge, edgeRules(), nft);
    set.nft(ns.app1, appRules(), nft);
    set.nft(ns.app2, appRules(), nft);
    set.nft(ns.db, dbRules(), nft);

    // The database host.
    cluster = await createCluster({
      netns: ns.db,
      host: ADDRESS.db,
      port: PG_PORT,
      tcpClients: [`${ADDRESS.app1}/32`, `${ADDRESS.app2}/32`],
      // Named after this run, so that the next run removes it if this one is killed (removeDeadDirs).
      dirPrefix: `${DIR_PREFIX}${process.pid}-pg-`,
    });
    const database = 'tasks';
    const password = randomBytes(24).toString('hex');
    await cluster.admin(`CREATE ROLE tasks LOGIN PASSWORD '${password}'`);
    await cluster.admin(`CREATE DATABASE ${database} OWNER tasks`);

    // The API hosts, started together (migrations take turns under their advisory lock).
    const apps: Record<AppName, { running?: Running; past: string; dir: string; env: Record<string, string> }> = {
      app1: { past: '', dir: join(dir, 'app1'), env: {} },
      app2: { past: '', dir: join(dir, 'app2'), env: {} },
    };
    for (const name of ['app1', 'app2'] as const) {
      mkdirSync(apps[name].dir);
      apps[name].env = {
        DEBUG: 'false',
        HOST: ADDRESS[name],
        PORT: String(API_PORT),
        ALLOWED_HOSTS: domain,
        CORS_ALLOWED_ORIGINS: `https://${domain}`,
        // Exactly the address nginx's connections come from: edge's private address.
        TRUST_PROXY: ADDRESS.edgePrivate,
        POSTGRES_DB: database,
        POSTGRES_USER: 'tasks',
        POSTGRES_PASSWORD: password,
        DB_HOST: ADDRESS.db,
        DB_PORT: String(PG_PORT),
        // One key for both: a token one host issued must work on the other.
        SECRET_KEY: STRONG_KEY,
        // The shipped drain (process.ts turns it off for speed elsewhere).
        SHUTDOWN_DRAIN: '5s',
        LOG_LEVEL: 'info',
        ...options.serverEnv,
      };
    }
    const startApp = async (name: AppName) => {
      const began = performance.now();
      const app = apps[name];
      app.running = await startServer(app.env, app.dir, { netns: ns[name], startupMs: 60_000 });
      children.add(app.running.child);
      return { ms: Math.round(performance.now() - began) };
    };
    await Promise.all([startApp('app1'), startApp('app2')]);

    // DNS for the API name on edge's loopback: both app addresses, as compose's DNS answers a scaled service.
    const hostsFile = join(dir, 'api.hosts');
    writeFileSync(hostsFile, `${ADDRESS.app1} ${API_NAME}\n${ADDRESS.app2} ${API_NAME}\n`);
    const dnsLogPath = join(dir, 'dnsmasq.log');
    const dnsLog = openSync(dnsLogPath, 'a');
    const dnsmasq = spawnIn(
      ns.edge,
      requireTool('dnsmasq'),
      [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--no-resolv',
        '--no-hosts',
        `--addn-hosts=${hostsFile}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--port=53',
        `--pid-file=${join(dir, 'dnsmasq.pid')}`,
        '--user=root',
        '--log-facility=-',
      ],
      { stdio: ['ignore', dnsLog, dnsLog] },
    );
    closeSync(dnsLog);
    children.add(dnsmasq);
    await waitFor(
      'dnsmasq',
      () => /read .*api\.hosts/.test(tail(dnsLogPath)),
      15_000,
      () => tail(dnsLogPath),
    );

    // The edge: nginx with the repository's template.
    const certificate = makeCertificate(dir, domain);
    const acmeRoot = join(dir, 'acme');
    mkdirSync(join(acmeRoot, '.well-known/acme-challenge'), { recursive: true });
    const values: TemplateValues = {
      DOMAIN: domain,
      API_UPSTREAM: `${API_NAME}:${API_PORT}`,
      RESOLVER: '127.0.0.1',
      TLS_CERT: certificate.cert,
      TLS_KEY: certificate.key,
      HTTP_PORT: `${ADDRESS.edgePublic}:80`,
      HTTPS_PORT: `${ADDRESS.edgePublic}:443`,
      HEALTH_PORT: EDGE_HEALTH,
      WEB_ROOT: webRoot,
      ACME_ROOT: acmeRoot,
    };
    renderTemplates(dir, values);
    writeMainConfig(dir);
    // nginx writes its pid file after it has bound every listener.
    const nginx: RunningNginx = await startNginx(dir, async () => existsSync(join(dir, 'nginx.pid')), ns.edge);
    children.add(nginx.child);

    const probe = <T>(host: Host, command: string, input: unknown, timeoutMs = 60_000) =>
      runProbe<T>(ns[host], command, input, timeoutMs);

    const target: Target = {
      address: ADDRESS.edgePublic,
      port: 443,
      scheme: 'https',
      domain,
      ca: certificate.pem,
    };
    const appTarget = (name: AppName): Target => ({ address: ADDRESS[name], port: API_PORT, scheme: 'http', domain });

    /**
     * A probe command that keeps running (the load, a canary listener) in a host: started, waited for until it prints
     * `marker`, and stopped by closing its stdin (SIGKILL after `stopMs`).
     */
    const longProbe = async (
      host: Host,
      command: string,
      input: unknown,
      marker: string,
      what: string,
      startMs: number,
    ) => {
      const child = spawnIn(ns[host], TSX, [PROBE, command, JSON.stringify(input)], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr?.on('data', (chunk) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      await waitFor(
        what,
        () => stdout.includes(marker) || child.exitCode !== null,
        startMs,
        () => stderr,
      );
      if (child.exitCode !== null) throw new Error(`${what} exited at once: ${stderr}`);
      return {
        stdout: () => stdout,
        stderr: () => stderr,
        stop: async (stopMs: number) => {
          child.stdin?.end();
          const timer = setTimeout(() => child.kill('SIGKILL'), stopMs);
          const code = await exited;
          clearTimeout(timer);
          children.delete(child);
          return code;
        },
      };
    };

    const load = async (config: Omit<LoadConfig, 'target'>): Promise<RunningLoad> => {
      const probe = await longProbe('internet', 'load', { ...config, target }, '"started"', 'the load clients', 60_000);
      return {
        stop: async () => {
          const code = await probe.stop(60_000);
          const last = probe.stdout().trim().split('\n').at(-1) ?? '';
          if (code !== 0 || last.includes('"started"'))
            throw new Error(`load failed (exit ${code}): ${probe.stderr()}`);
          return JSON.parse(last) as LoadReport;
        },
      };
    };

    const stopApp = async (name: AppName, signal: 'SIGTERM' | 'SIGKILL') => {
      const app = apps[name];
      const running = app.running;
      if (!running) throw new Error(`${name} is not running`);
      const began = performance.now();
      running.child.kill(signal);
      const code = await running.exited;
      children.delete(running.child);
      app.past += running.output();
      app.running = undefined;
      return { code, ms: Math.round(performance.now() - began) };
    };

    const canary = async (host: Host, port: number) => {
      const probe = await longProbe(host, 'listen', { port }, '"listening"', `canary on ${host}:${port}`, 30_000);
      return {
        stop: async () => {
          await probe.stop(10_000);
        },
      };
    };

    const appOutput = (name: AppName) => apps[name].past + (apps[name].running?.output() ?? '');

    let stopped = false;
    const stop = async () => {
      const began = performance.now();
      if (stopped) return { ms: 0 };
      stopped = true;
      await stopNginx(nginx);
      // SIGINT: the server skips its drain, which only matters behind a live balancer.
      await Promise.all(
        (['app1', 'app2'] as const).map(async (name) => {
          const running = apps[name].running;
          if (!running || running.child.exitCode !== null) return;
          running.child.kill('SIGINT');
          const timer = setTimeout(() => running.child.kill('SIGKILL'), 15_000);
          await running.exited;
          clearTimeout(timer);
        }),
      );
      teardownSync();
      live.delete(teardownSync);
      return { ms: Math.round(performance.now() - began) };
    };

    return {
      domain,
      ns,
      prefix: set.prefix,
      clientAddresses,
      target,
      appTarget,
      ca: certificate.pem,
      certPath: certificate.cert,
      dir,
      cluster,
      database,
      startMs: Math.round(performance.now() - started),
      probe,
      load,
      stopApp,
      startApp,
      canary,
      switchPorts,
      appOutput,
      output: () => ({
        nginx: nginx.output(),
        dnsmasq: tail(dnsLogPath),
        app1: appOutput('app1').slice(-64 * 1024),
        app2: appOutput('app2').slice(-64 * 1024),
      }),
      stop,
    };
  } catch (error) {
    teardownSync();
    live.delete(teardownSync);
    throw error;
  }
}
