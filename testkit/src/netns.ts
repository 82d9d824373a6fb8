/**
 * Linux network namespaces for tests: hosts made with `ip netns`, wired with veth pairs to Linux bridges that live
 * in a namespace of their own (the "switch"), so the root namespace, where the test itself runs, is attached to
 * nothing. Everything goes through iproute2 (`ip`) and nftables (`nft`), the tools an operator uses.
 *
 * Every namespace of one run is named `ic<pid>-<seq>-<host>`: two runs (a test and `npm run topology -- --multi-host`)
 * coexist, and a run that died without cleaning up (kill -9) is recognised by its pid and removed by the next one.
 *
 * iproute2 has no library binding for Node, and no npm package drives namespaces; these are thin, hand-written
 * wrappers around its commands.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** Where `ip netns add` puts its namespace handles. */
const NETNS_DIR = '/run/netns';
const NAME = /^ic(\d+)-\d+-[a-z0-9]+$/;

export const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((path) => existsSync(path)) ?? 'ip';

/** Runs a command and returns its stdout; throws with its output when it fails. */
export function runSync(command: string, args: readonly string[], input?: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', input, timeout: 30_000 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}

/** `ip <args>` */
export function ip(...args: string[]): string {
  return runSync(IP, args);
}

/** A command run to completion inside namespace `ns`. */
export function execIn(ns: string, command: string, args: readonly string[] = [], input?: string): string {
  return runSync(IP, ['netns', 'exec', ns, command, ...args], input);
}

/** A long-running process inside namespace `ns`. `ip netns exec` execs the command, so the child's pid is its own. */
export function spawnIn(
  ns: string,
  command: string,
  args: readonly string[],
  options: Parameters<typeof spawn>[2] = {},
): ChildProcess {
  return spawn(IP, ['netns', 'exec', ns, command, ...args], options);
}

/** Whether this process may create network namespaces (root, and `ip netns add` works); the reason when not. */
export function netnsMissing(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
  const probe = `ic${process.pid}-999-gate`;
  const add = spawnSync(IP, ['netns', 'add', probe], { encoding: 'utf8', timeout: 10_000 });
  if (add.status !== 0) {
    return `ip netns add failed (${add.error?.message ?? add.stderr.trim()}; apt-get install iproute2, and run as root where namespaces are permitted)`;
  }
  spawnSync(IP, ['netns', 'delete', probe], { timeout: 10_000 });
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of every process in a namespace (`ip netns pids`). */
export function pidsIn(ns: string): number[] {
  const result = spawnSync(IP, ['netns', 'pids', ns], { encoding: 'utf8', timeout: 10_000 });
  return (result.stdout ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** Kills everything in a namespace (SIGKILL; the caller stops what deserves a gentler end first) and deletes it. */
export function destroyNamespace(ns: string): void {
  for (let round = 0; round < 20; round += 1) {
    const pids = pidsIn(ns);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    spawnSync('sleep', ['0.05']);
  }
  spawnSync(IP, ['netns', 'delete', ns], { timeout: 10_000 });
}

/** Names of the namespaces that exist now. */
export function namespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

/** Removes the namespaces of earlier runs whose process is gone (killed before it could clean up). */
export function removeDeadRuns(): string[] {
  const removed: string[] = [];
  for (const ns of namespaces()) {
    const match = NAME.exec(ns);
    if (!match || alive(Number(match[1]))) continue;
    destroyNamespace(ns);
    removed.push(ns);
  }
  return removed;
}

let sequence = 0;

/** A set of namespaces created together and destroyed together. */
export class NamespaceSet {
  readonly prefix: string;
  private readonly created: string[] = [];

  constructor() {
    this.prefix = `ic${process.pid}-${sequence++}-`;
  }

  name(host: string): string {
    return `${this.prefix}${host}`;
  }

  /**
   * Creates `<prefix><host>` with its loopback up and IPv6 off: nothing here uses it, and every interface created
   * later (bridges and their ports included) would otherwise get a link-local address that answers a multicast
   * ping from anyone on the segment. `default` covers interfaces created later, `all` the loopback that exists.
   */
  add(host: string): string {
    const ns = this.name(host);
    ip('netns', 'add', ns);
    this.created.push(ns);
    if (existsSync('/proc/sys/net/ipv6')) {
      this.sysctl(ns, 'net.ipv6.conf.default.disable_ipv6', '1');
      this.sysctl(ns, 'net.ipv6.conf.all.disable_ipv6', '1');
    }
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    return ns;
  }

  /** A bridge inside the switch namespace. */
  bridge(switchNs: string, name: string): void {
    ip('-n', switchNs, 'link', 'add', name, 'type', 'bridge');
    ip('-n', switchNs, 'link', 'set', name, 'up');
  }

  /**
   * A veth pair from `bridge` in the switch namespace to interface `device` in `ns`, with `addresses` (CIDR) on it.
   * The pair is created inside the switch namespace (never in the root one, where two runs' names could collide).
   */
  plug(switchNs: string, bridge: string, port: string, ns: string, device: string, addresses: string[]): void {
    ip('-n', switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', device, 'netns', ns);
    ip('-n', switchNs, 'link', 'set', port, 'master', bridge);
    ip('-n', switchNs, 'link', 'set', port, 'up');
    for (const address of addresses) ip('-n', ns, 'address', 'add', address, 'dev', device);
    ip('-n', ns, 'link', 'set', device, 'up');
  }

  /**
   * A sysctl inside `ns`, read back to prove it took. Written through /proc/sys (what `sysctl -w` does), which shows
   * the namespace of the process that opens it, so no procps is needed.
   */
  sysctl(ns: string, key: string, value: string): void {
    if (!/^[a-z0-9_.]+$/.test(key) || !/^[0-9]+$/.test(value)) throw new Error(`unexpected sysctl ${key}=${value}`);
    execIn(ns, 'sh', ['-c', `echo ${value} > /proc/sys/${key.replace(/\./g, '/')}`]);
    const now = readSysctl(ns, key);
    if (now !== value) throw new Error(`${ns}: ${key} is ${now}, not ${value}`);
  }

  /** Loads an nftables ruleset into `ns` (replacing whatever it had). */
  nft(ns: string, ruleset: string, nft = 'nft'): void {
    execIn(ns, nft, ['-f', '-'], `flush ruleset\n${ruleset}`);
  }

  /** Namespaces of this set that still exist. */
  remaining(): string[] {
    return namespaces().filter((ns) => ns.startsWith(this.prefix));
  }

  /** Kills every process in every namespace of the set and deletes them; synchronous, so it can run on 'exit'. */
  destroySync(): void {
    for (const ns of [...new Set([...this.created, ...this.remaining()])].reverse()) destroyNamespace(ns);
    this.created.length = 0;
  }
}

/** The MAC address of `device` in namespace `ns`. */
export function macOf(ns: string, device: string): string {
  const [link] = JSON.parse(ip('-n', ns, '-j', 'link', 'show', 'dev', device)) as Array<{ address: string }>;
  if (!link?.address) throw new Error(`${ns}: no MAC address on ${device}`);
  return link.address;
}

/** The IPv6 addresses in namespace `ns`, on any interface ("fe80::1/64 dev eth0"). */
export function ipv6Addresses(ns: string): string[] {
  const links = JSON.parse(ip('-n', ns, '-j', '-6', 'address', 'show')) as Array<{
    ifname: string;
    addr_info?: Array<{ local: string; prefixlen: number }>;
  }>;
  return links.flatMap((link) =>
    (link.addr_info ?? []).map((info) => `${info.local}/${info.prefixlen} dev ${link.ifname}`),
  );
}

/** The value of a sysctl inside a namespace, as the kernel reports it now. */
export function readSysctl(ns: string, key: string): string {
  return execIn(ns, 'cat', [`/proc/sys/${key.replace(/\./g, '/')}`]).trim();
}

/** For messages: the last part of a file that may not exist. */
export function tail(path: string, bytes = 16 * 1024): string {
  try {
    return readFileSync(path, 'utf8').slice(-bytes);
  } catch {
    return '';
  }
}
