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
 * (fast for an honest client, nothing for an attacker), anything else rejected. Nothing is forwarded (also
 * net.ipv4.ip_forward=0): a packet for a private address that an attacker routes through edge goes nowhere.
 */
export function edgeRules(): string {
  return `table inet ironclad {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "${EDGE_PUBLIC_IF}" ct state established,related accept
    iifname "${EDGE_PUBLIC_IF}" ct state invalid drop
    iifname "${EDGE_PUBLIC_IF}" ip daddr ${ADDRESS.edgePublic} tcp dport { 80, 443 } accept
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

/** An API host: port 8000 from edge only (nginx and its readiness checks); its own connections' answers. */
export function appRules(): string {
  return `table inet ironclad {
  chain input {
    type filter hook input priority filter; policy drop;
    iif lo accept
    ct state established,related accept
    ct state invalid drop
    ip saddr ${ADDRESS.edgePrivate} tcp dport ${API_PORT} accept
    ip protocol icmp accept
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
  }
}
`;
}

/** The database host: PostgreSQL from the API hosts only. Everyone else's SYN is dropped (pg_hba refuses them too). */
export function dbRules(): string {
  return `table inet ironclad {
  chain input {
    type filter hook input priority filter; policy drop;
    iif lo accept
    ct state established,related accept
    ct state invalid drop
    ip saddr { ${ADDRESS.app1}, ${ADDRESS.app2} } tcp dport ${PG_PORT} accept
    ip protocol icmp accept
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
  }
}
`;
}
