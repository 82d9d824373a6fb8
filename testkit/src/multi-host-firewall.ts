/**
 * The addresses and firewall rules of the multi-host topology (multi-host.ts). Kept apart because they are also
 * what docs/deployment.md ("Several hosts") tells an operator to put on real hosts: the nftables rulesets below are
 * loaded as they are into each host's namespace.
 */

/** Public network (internet <-> edge), TEST-NET-3: never routed anywhere real. */
export const PUBLIC_NET = '203.0.113.0/24';
/** Private network (edge <-> app1 <-> app2 <-> db), like compose's internal network. */
export const PRIVATE_NET = '10.89.0.0/24';

export const ADDRESS = {
  internet: '203.0.113.2',
  edgePublic: '203.0.113.10',
  edgePrivate: '10.89.0.2',
  app1: '10.89.0.11',
  app2: '10.89.0.12',
  db: '10.89.0.20',
} as const;

/** The i-th extra source address of the internet host (one per load client: nginx limits each address). */
export function clientAddress(index: number): string {
  if (index < 0 || index > 99) throw new Error('at most 100 client addresses');
  return `203.0.113.${100 + index}`;
}

export const API_PORT = 8000;
export const PG_PORT = 5432;
/** nginx's internal liveness listener, on edge's loopback only (HEALTH_PORT). */
export const EDGE_HEALTH = '127.0.0.1:8081';

/** Interface names inside the hosts. */
export const EDGE_PUBLIC_IF = 'eth-pub';
export const EDGE_PRIVATE_IF = 'eth-priv';

/**
 * Edge: from the public side only 80 and 443 of its public address; every other TCP port is refused with a reset
 * (fast for an honest client, nothing for an attacker), anything else rejected. A packet that arrives on the public
 * interface for any other of edge's addresses (its private one, which Linux would otherwise answer on every interface:
 * the weak host model) is dropped unanswered, ICMP included, so routing the private network via edge reveals nothing.
 * Nothing is forwarded (also net.ipv4.ip_forward=0): a packet for a private host goes nowhere.
 */
export function edgeRules(): string {
  return `table inet ironclad {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "${EDGE_PUBLIC_IF}" ct state established,related accept
    iifname "${EDGE_PUBLIC_IF}" ct state invalid drop
    iifname "${EDGE_PUBLIC_IF}" meta nfproto ipv6 drop
    iifname "${EDGE_PUBLIC_IF}" ip daddr != ${ADDRESS.edgePublic} drop
    iifname "${EDGE_PUBLIC_IF}" tcp dport { 80, 443 } accept
    iifname "${EDGE_PUBLIC_IF}" ip protocol icmp accept
    iifname "${EDGE_PUBLIC_IF}" meta l4proto tcp reject with tcp reset
    iifname "${EDGE_PUBLIC_IF}" reject
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
  }
}
`;
}

/**
 * A host of the private network that serves one port to the given sources only: everything else it receives is
 * dropped, except loopback, answers to its own connections, and ICMP.
 */
function privateHostRules(sources: readonly string[], port: number): string {
  return `table inet ironclad {
  chain input {
    type filter hook input priority filter; policy drop;
    iif lo accept
    ct state established,related accept
    ct state invalid drop
    ip saddr { ${sources.join(', ')} } tcp dport ${port} accept
    ip protocol icmp accept
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
  }
}
`;
}

/** An API host: port 8000 from edge only (nginx and its readiness checks). */
export function appRules(): string {
  return privateHostRules([ADDRESS.edgePrivate], API_PORT);
}

/** The database host: PostgreSQL from the API hosts only. Everyone else's SYN is dropped (pg_hba refuses them too). */
export function dbRules(): string {
  return privateHostRules([ADDRESS.app1, ADDRESS.app2], PG_PORT);
}
/** One host's port on a bridge of the switch, and the only addresses it may send from. */
export interface SwitchPort {
  /** The bridge port (the switch's end of the host's veth pair). */
  port: string;
  /** The MAC address of the host's interface. */
  mac: string;
  /** The IPv4 addresses assigned to that interface. */
  addresses: readonly string[];
}

/**
 * The switch (both bridges): what a cloud VPC's source/destination check, a managed switch's port security and
 * dynamic ARP inspection do. From each host's port only IPv4 frames from that host's own MAC and addresses, and ARP
 * whose sender MAC and sender IP are that host's own, pass; everything else is dropped, IPv6 included (no host
 * uses it). Root on one host (edge, say) can then neither send from another host's address nor poison a neighbour's
 * ARP cache to receive that host's answers. Hooked at prerouting: it also covers frames for the bridge itself.
 */
export function switchRules(ports: readonly SwitchPort[]): string {
  const lines = ports.flatMap(({ port, mac, addresses }) => {
    const from = addresses.length === 1 ? addresses[0] : `{ ${addresses.join(', ')} }`;
    return [
      `    iifname "${port}" ether saddr ${mac} ip saddr ${from} accept`,
      `    iifname "${port}" ether saddr ${mac} arp saddr ether ${mac} arp saddr ip ${from} accept`,
    ];
  });
  return `table bridge ironclad {
  chain prerouting {
    type filter hook prerouting priority filter; policy drop;
    ether type ip6 drop
${lines.join('\n')}
  }
}
`;
}
