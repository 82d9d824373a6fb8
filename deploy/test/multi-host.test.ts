/**
 * The production topology on separate hosts (testkit/src/multi-host.ts): internet, edge (nginx), app1, app2 and db,
 * each a Linux network namespace, on a public and a private network. Checked from where an attacker stands (a port
 * scan from `internet`, with nmap and independently with plain connects), from the edge (no PostgreSQL, and no way
 * to pose as an API host), end to end through nginx, and under steady load through a rolling restart and a kill -9
 * of one API host. Each firewall check is made so that it fails without the rules it is about: canary listeners on
 * 0.0.0.0 that only a host's firewall hides, and the anti-spoofing attack run once more without the switch's rules.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { GOOD_PASSWORD, uniqueEmail } from '@ironclad/testkit/accounts';
import { REPO, requireTool } from '@ironclad/testkit/gate';
import {
  ADDRESS,
  API_PORT,
  type AppName,
  type MultiHost,
  multiHostGate,
  PG_PORT,
  PRIVATE_NET,
  PUBLIC_NET,
  removeDeadDirs,
  startMultiHost,
  switchRules,
} from '@ironclad/testkit/multi-host';
import { IP, ipv6Addresses, macOf, namespaces, readSysctl, removeDeadRuns } from '@ironclad/testkit/netns';
import type { LoadClient, LoadReport } from '@ironclad/testkit/netns-load';
import { afterAll, beforeAll, expect } from 'vitest';

const gate = await multiHostGate('multi-host topology tests');
const run = promisify(execFile);

type Probed = Array<{ host: string; port: number; result: string }>;
type Answers = Array<{ status: number; headers: Record<string, string>; body: string } | { error: string }>;

interface ScannedHost {
  address: string;
  state: string;
  open: number[];
  /** nmap's summary of the ports it does not list one by one: {closed: 65533} or {filtered: 65535}. */
  rest: Record<string, number>;
}

/**
 * nmap run inside a namespace, its XML report read back. nmap's XML is flat and machine-written; the few attributes
 * needed here are read with patterns rather than a parser the repository would otherwise not need.
 */
async function nmap(ns: string, args: string[]): Promise<ScannedHost[]> {
  let stdout: string;
  try {
    ({ stdout } = await run(IP, ['netns', 'exec', ns, requireTool('nmap'), '-n', '-oX', '-', ...args], {
      encoding: 'utf8',
      timeout: 150_000,
      maxBuffer: 64 * 1024 * 1024,
    }));
  } catch (error) {
    throw new Error(`nmap ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
  const hosts: ScannedHost[] = [];
  // `<host>` or `<host starttime=...>`, not `<hosthint>` (what nmap learned before scanning) nor `<hostnames>`.
  for (const block of stdout.split(/<host[\s>]/).slice(1)) {
    const address = /<address addr="([^"]+)" addrtype="ipv4"/.exec(block)?.[1];
    if (!address) continue;
    const open = [...block.matchAll(/<port protocol="tcp" portid="(\d+)"><state state="open"/g)].map((m) =>
      Number(m[1]),
    );
    const rest: Record<string, number> = {};
    for (const m of block.matchAll(/<extraports state="([a-z|]+)" count="(\d+)"/g)) rest[m[1] as string] = Number(m[2]);
    hosts.push({ address, state: /<status state="([a-z]+)"/.exec(block)?.[1] ?? '?', open, rest });
  }
  return hosts;
}

/** Every TCP port, fast: dropped probes wait for a timeout each, where an answer would take microseconds on veth. */
const FAST_FULL_SCAN = [
  '-Pn',
  '-sS',
  '-p-',
  '-T4',
  '--max-retries',
  '1',
  '--min-rate',
  '20000',
  '--initial-rtt-timeout',
  '100ms',
  '--max-rtt-timeout',
  '250ms',
];

/** A port no service of the topology uses: the canaries listen there. */
const CANARY_PORT = 9999;

function statusOf(answer: Answers[number] | undefined): number | string {
  if (!answer) return 'missing';
  return 'error' in answer ? answer.error : answer.status;
}

/** Lines each app logged for task requests (the API logs one line per request). */
function taskRequests(hosts: MultiHost, name: AppName): number {
  return hosts
    .appOutput(name)
    .split('\n')
    .filter((line) => line.includes('"msg":"request"') && line.includes('"/api/v1/tasks/"')).length;
}

gate.describe('the multi-host topology in network namespaces', () => {
  let hosts: MultiHost;
  let clients: LoadClient[] = [];
  let clientEmails: string[] = [];

  beforeAll(async () => {
    hosts = await startMultiHost({ clients: 24 });
    console.log(`multi-host topology started in ${hosts.startMs} ms (namespaces ${hosts.prefix}*)`);
  }, 120_000);

  afterAll(async () => {
    await hosts?.stop();
  }, 60_000);

  gate.it('lets no host forward: net.ipv4.ip_forward is 0 on edge and everywhere', () => {
    for (const host of ['internet', 'edge', 'app1', 'app2', 'db'] as const) {
      expect(readSysctl(hosts.ns[host], 'net.ipv4.ip_forward'), host).toBe('0');
    }
  });

  gate.it(
    'has no IPv6 anywhere: no host or bridge has an address, and a multicast echo sweep from the internet finds nobody',
    async () => {
      for (const host of ['switch', 'internet', 'edge', 'app1', 'app2', 'db'] as const) {
        expect(ipv6Addresses(hosts.ns[host]), host).toEqual([]);
      }
      // The attacker turns IPv6 on at their own end and asks every IPv6 node on the link to answer (what found the
      // bridges' link-local addresses before IPv6 was turned off in every namespace and dropped on the switch).
      const internet = hosts.ns.internet;
      const v6 = (value: string) =>
        spawnSync(IP, [
          'netns',
          'exec',
          internet,
          'sh',
          '-c',
          `echo ${value} > /proc/sys/net/ipv6/conf/eth0/disable_ipv6`,
        ]);
      expect(v6('0').status).toBe(0);
      try {
        // Duplicate address detection must finish before the link-local address can send.
        await expect
          .poll(() => ipv6Addresses(internet).filter((a) => !a.includes('tentative')).length, { timeout: 10_000 })
          .toBeGreaterThan(0);
        await new Promise((done) => setTimeout(done, 1500));
        const { stdout } = await run(
          IP,
          [
            'netns',
            'exec',
            internet,
            requireTool('nmap'),
            '-6',
            '-n',
            '-sn',
            '--script',
            'targets-ipv6-multicast-echo',
            '--script-args',
            'newtargets,interface=eth0',
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
        const found = [...stdout.matchAll(/IP: (\S+)/g)].map((m) => m[1]);
        console.log(`IPv6 multicast echo sweep from internet: ${found.length} answered ${JSON.stringify(found)}`);
        expect(found).toEqual([]);
        expect(stdout).toContain('0 hosts up');
      } finally {
        v6('1');
      }
    },
    90_000,
  );

  gate.it(
    'shows the internet exactly 80 and 443 on edge, and nothing else anywhere (nmap and plain connects agree)',
    async () => {
      // A canary on edge on every address: a service started there by mistake. Only edge's input rules keep it from
      // the internet (without them it shows up as open below).
      const canary = await hosts.canary('edge', CANARY_PORT);
      try {
        await scanFromInternet();
      } finally {
        await canary.stop();
      }
    },
    240_000,
  );

  async function scanFromInternet(): Promise<void> {
    // Every address internet can reach on its network (its own addresses aside).
    const own = [ADDRESS.internet, ...hosts.clientAddresses].join(',');
    const swept = (await nmap(hosts.ns.internet, ['-sn', PUBLIC_NET, '--exclude', own])).filter(
      (h) => h.state === 'up',
    );
    expect(swept.map((h) => h.address)).toEqual([ADDRESS.edgePublic]);

    // Every TCP port of every such address.
    const started = performance.now();
    const scanned = await nmap(hosts.ns.internet, [
      '-Pn',
      '-sS',
      '-p-',
      '-T4',
      '--max-retries',
      '1',
      ...swept.map((h) => h.address),
    ]);
    const nmapMs = Math.round(performance.now() - started);
    expect(scanned).toEqual([{ address: ADDRESS.edgePublic, state: 'up', open: [80, 443], rest: { closed: 65533 } }]);

    // The same with plain TCP connects, independent of nmap: every other port refused at once.
    const connects = await hosts.probe<{ open: number[]; outcomes: Record<string, number>; ms: number }>(
      'internet',
      'scan',
      { host: ADDRESS.edgePublic, timeoutMs: 3000, concurrency: 256 },
      120_000,
    );
    expect(connects.open).toEqual([80, 443]);
    expect(connects.outcomes).toEqual({ open: 2, refused: 65533 });

    // The private network is not even routed.
    const direct = await hosts.probe<Probed>('internet', 'connect', {
      targets: [
        { host: ADDRESS.app1, port: API_PORT },
        { host: ADDRESS.app2, port: API_PORT },
        { host: ADDRESS.db, port: PG_PORT },
        { host: ADDRESS.edgePrivate, port: 443 },
      ],
      timeoutMs: 2000,
    });
    expect(direct.map((p) => p.result)).toEqual(['ENETUNREACH', 'ENETUNREACH', 'ENETUNREACH', 'ENETUNREACH']);
    console.log(
      `scan from internet: sweep of ${PUBLIC_NET} found ${swept.length} host; nmap -p- of it: open ${scanned[0]?.open.join(', ')}, ${scanned[0]?.rest.closed} closed (${nmapMs} ms); ` +
        `node connect scan: open ${connects.open.join(', ')}, ${connects.outcomes.refused} refused (${connects.ms} ms); ` +
        `canary on edge 0.0.0.0:${CANARY_PORT} not visible`,
    );
  }

  gate.it(
    'keeps app and db unreachable when the attacker routes the private network through edge',
    async () => {
      const internet = hosts.ns.internet;
      const route = ['-n', internet, 'route', 'add', PRIVATE_NET, 'via', ADDRESS.edgePublic];
      expect(spawnSync(IP, route).status).toBe(0);
      try {
        const inside = [ADDRESS.app1, ADDRESS.app2, ADDRESS.db, ADDRESS.edgePrivate];
        const started = performance.now();
        // A minimum rate keeps 4 x 65535 dropped probes within seconds (FAST_FULL_SCAN).
        const scanned = await nmap(internet, [...FAST_FULL_SCAN, ...inside]);
        const nmapMs = Math.round(performance.now() - started);
        expect(scanned.map((h) => h.address).sort()).toEqual([...inside].sort());
        for (const host of scanned) expect(host.open, host.address).toEqual([]);
        // Edge does not forward: app and db never answer (filtered). Edge's own private address would answer on
        // the public interface (Linux's weak host model: every port closed, a reset each) but for edge's rule that
        // drops whatever arrives there for an address other than the public one.
        for (const address of inside) {
          expect(scanned.find((h) => h.address === address)?.rest, address).toEqual({ filtered: 65535 });
        }

        // ICMP echo: edge answers on its public address only; its private address does not betray itself.
        const ping = () => nmap(internet, ['-sn', '-PE', '--disable-arp-ping', ADDRESS.edgePublic, ...inside]);
        const pinged = await ping();
        expect(pinged.filter((h) => h.state === 'up').map((h) => h.address)).toEqual([ADDRESS.edgePublic]);

        // Edge's own rules do that, not only the switch (which drops edge's answers from its private address on the
        // public network as spoofed): without the switch's rules, the same.
        const alone = await withoutSwitchRules(async () => ({
          scanned: await nmap(internet, [...FAST_FULL_SCAN, ADDRESS.edgePrivate]),
          pinged: await ping(),
        }));
        expect(alone.scanned.map(({ open, rest }) => ({ open, rest }))).toEqual([
          { open: [], rest: { filtered: 65535 } },
        ]);
        expect(alone.pinged.filter((h) => h.state === 'up').map((h) => h.address)).toEqual([ADDRESS.edgePublic]);

        const probed = await hosts.probe<Probed>('internet', 'connect', {
          targets: [
            { host: ADDRESS.app1, port: API_PORT },
            { host: ADDRESS.app2, port: API_PORT },
            { host: ADDRESS.db, port: PG_PORT },
            { host: ADDRESS.edgePrivate, port: 80 },
            { host: ADDRESS.edgePrivate, port: 443 },
            { host: ADDRESS.edgePrivate, port: 8081 },
          ],
          timeoutMs: 2000,
        });
        for (const probe of probed) expect(probe.result, `${probe.host}:${probe.port}`).not.toBe('open');
        console.log(
          `attacker route via edge: nmap -p- of ${inside.join(', ')}: ${scanned.map((h) => `${h.address} open [${h.open.join(',')}] ${JSON.stringify(h.rest)}`).join('; ')} (${nmapMs} ms); ` +
            `connects: ${probed.map((p) => `${p.host}:${p.port} ${p.result}`).join(', ')}; ` +
            `ICMP echo answered by ${pinged.filter((h) => h.state === 'up').map((h) => h.address)} only`,
        );
      } finally {
        spawnSync(IP, ['-n', internet, 'route', 'del', PRIVATE_NET, 'via', ADDRESS.edgePublic]);
      }
    },
    240_000,
  );

  gate.it(
    'passes the deploy auditor run from the internet: no database or API port on the front door, no live finding',
    async () => {
      // The project's own auditor (npm run check -- --deploy --url), from where an attacker stands: its live checks
      // probe PostgreSQL's and the API's ports on the URL's host besides TLS, redirects, headers and leaks. On the
      // single-machine topology it rightly reports 127.0.0.1:5432 as reachable; here nothing but nginx is.
      const runAudit = (from: string, connect: string) =>
        spawnSync(
          IP,
          [
            'netns',
            'exec',
            from,
            process.execPath,
            join(REPO, 'audit/dist/cli.js'),
            'check',
            '--deploy',
            '--dir',
            REPO,
            '--skip',
            'config,files,history',
            '--url',
            `https://${hosts.domain}/`,
            '--connect',
            connect,
            '--ca',
            hosts.certPath,
            '--json',
          ],
          { encoding: 'utf8', timeout: 120_000 },
        );
      type Report = { findings: Array<{ id: string; severity: string; message: string }> };
      // Control: the same check from app1, pointed at the db host, which app1 may reach, sees PostgreSQL's port.
      const inside = JSON.parse(runAudit(hosts.ns.app1, ADDRESS.db).stdout) as Report;
      expect(inside.findings.map((f) => f.id)).toContain('live.port.database');

      const audit = runAudit(hosts.ns.internet, ADDRESS.edgePublic);
      const report = JSON.parse(audit.stdout) as Report;
      const ids = report.findings.map((f) => f.id);
      expect(ids.filter((id) => id.startsWith('live.port.'))).toEqual([]);
      expect(ids).not.toContain('live.unreachable');
      expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
      expect(audit.status, audit.stderr).toBe(0);
    },
    150_000,
  );

  gate.it('lets only the app hosts reach PostgreSQL (firewall and pg_hba)', async () => {
    const db = [{ host: ADDRESS.db, port: PG_PORT }];
    const fromEdge = await hosts.probe<Probed>('edge', 'connect', { targets: db, timeoutMs: 1500 });
    expect(['timeout', 'refused', 'ECONNRESET']).toContain(fromEdge[0]?.result);
    for (const app of ['app1', 'app2'] as const) {
      const fromApp = await hosts.probe<Probed>(app, 'connect', { targets: db, timeoutMs: 5000 });
      expect(fromApp[0]?.result, app).toBe('open');
    }
    // Defence in depth: PostgreSQL itself takes TCP from the two app addresses only.
    const rules = await hosts.cluster.admin(
      "SELECT type, address, netmask, auth_method FROM pg_hba_file_rules WHERE type LIKE 'host%'",
    );
    expect(rules).toEqual([
      { type: 'host', address: ADDRESS.app1, netmask: '255.255.255.255', auth_method: 'scram-sha-256' },
      { type: 'host', address: ADDRESS.app2, netmask: '255.255.255.255', auth_method: 'scram-sha-256' },
    ]);
    // nginx's health listener is on edge's loopback only.
    const health = await hosts.probe<Answers>('edge', 'requests', {
      target: { address: '127.0.0.1', port: 8081, scheme: 'http', domain: hosts.domain },
      steps: [{ path: '/nginx-health' }],
    });
    expect(statusOf(health[0])).toBe(200);
  });

  gate.it(
    'shows app1 nothing from app2 or db and only 8000 from edge (a canary on app1 stays unreachable)',
    async () => {
      const canary = await hosts.canary('app1', CANARY_PORT);
      try {
        const started = performance.now();
        const [fromApp2, fromDb, fromEdge] = await Promise.all(
          (['app2', 'db', 'edge'] as const).map((from) => nmap(hosts.ns[from], [...FAST_FULL_SCAN, ADDRESS.app1])),
        );
        const ms = Math.round(performance.now() - started);
        const summary = (scan: ScannedHost[]) => scan.map(({ open, rest }) => ({ open, rest }));
        console.log(
          `nmap -p- of app1 (canary on 0.0.0.0:${CANARY_PORT}) from app2 ${JSON.stringify(summary(fromApp2 ?? []))}, ` +
            `db ${JSON.stringify(summary(fromDb ?? []))}, edge ${JSON.stringify(summary(fromEdge ?? []))} (${ms} ms, in parallel)`,
        );
        expect(summary(fromApp2 ?? [])).toEqual([{ open: [], rest: { filtered: 65535 } }]);
        expect(summary(fromDb ?? [])).toEqual([{ open: [], rest: { filtered: 65535 } }]);
        expect(summary(fromEdge ?? [])).toEqual([{ open: [API_PORT], rest: { filtered: 65534 } }]);
        // The same with plain connects (a scan at this rate could miss an answer on a loaded machine and call an
        // open port filtered): the canary listens, app1 reaches it itself, nobody else does.
        const targets = [
          { host: ADDRESS.app1, port: API_PORT },
          { host: ADDRESS.app1, port: CANARY_PORT },
        ];
        const connects = Object.fromEntries(
          await Promise.all(
            (['app1', 'app2', 'db', 'edge'] as const).map(async (from) => [
              from,
              (await hosts.probe<Probed>(from, 'connect', { targets, timeoutMs: 2000 })).map((p) => p.result),
            ]),
          ),
        );
        expect(connects).toEqual({
          app1: ['open', 'open'],
          app2: ['timeout', 'timeout'],
          db: ['timeout', 'timeout'],
          edge: ['open', 'timeout'],
        });
      } finally {
        await canary.stop();
      }
    },
    180_000,
  );

  gate.it(
    'keeps edge from posing as app1 to the database: its address and a forged ARP reply get nowhere (the switch drops them)',
    async () => {
      const { edge, db, app1 } = hosts.ns;
      const edgeMac = macOf(edge, 'eth-priv');
      const dbMac = macOf(db, 'eth0');
      const sh = (ns: string, command: string) =>
        spawnSync(IP, ['netns', 'exec', ns, 'sh', '-c', command], { encoding: 'utf8', timeout: 30_000 });
      /** Root on edge: app1's address on its private interface, db told that address is at edge, a connect from it. */
      const attack = async (): Promise<string[]> => {
        expect(sh(edge, `ip address add ${ADDRESS.app1}/32 dev eth-priv`).status).toBe(0);
        const results: string[] = [];
        try {
          for (let attempt = 0; attempt < 3; attempt += 1) {
            const forged = spawnSync(
              IP,
              [
                'netns',
                'exec',
                edge,
                requireTool('nping'),
                '--arp',
                '--arp-type',
                'ARP-reply',
                '--arp-sender-mac',
                edgeMac,
                '--arp-sender-ip',
                ADDRESS.app1,
                '--arp-target-mac',
                dbMac,
                '--arp-target-ip',
                ADDRESS.db,
                '--source-mac',
                edgeMac,
                '--dest-mac',
                dbMac,
                '-e',
                'eth-priv',
                '-c',
                '2',
                '--delay',
                '300ms',
                ADDRESS.db,
              ],
              { encoding: 'utf8', timeout: 30_000 },
            );
            expect(forged.status, forged.stderr).toBe(0);
            const [probe] = await hosts.probe<Probed>('edge', 'connect', {
              targets: [{ host: ADDRESS.db, port: PG_PORT }],
              timeoutMs: 2000,
              localAddress: ADDRESS.app1,
            });
            results.push(probe?.result ?? 'missing');
            if (probe?.result === 'open') break;
          }
        } finally {
          sh(edge, `ip address del ${ADDRESS.app1}/32 dev eth-priv; ip neigh flush dev eth-priv`);
          // db forgets the forged entry at once (it would for itself within seconds), so app1's connections flow.
          sh(db, `ip neigh del ${ADDRESS.app1} dev eth0`);
          sh(app1, `ip neigh flush dev eth0`);
        }
        return results;
      };

      const guarded = await attack();
      expect(guarded).toEqual(['timeout', 'timeout', 'timeout']);

      // Control: without the switch's rules the same attack reaches PostgreSQL (the test can fail).
      const open = await withoutSwitchRules(attack);
      console.log(
        `edge posing as ${ADDRESS.app1} (address + forged ARP reply) -> db:${PG_PORT}: with the switch's rules ${guarded.join(', ')}; ` +
          `without them ${open.join(', ')}`,
      );
      expect(open.at(-1)).toBe('open');
      // app1 still reaches its database.
      await expect
        .poll(
          async () =>
            (
              await hosts.probe<Probed>('app1', 'connect', {
                targets: [{ host: ADDRESS.db, port: PG_PORT }],
                timeoutMs: 2000,
              })
            )[0]?.result,
          { timeout: 20_000 },
        )
        .toBe('open');
    },
    120_000,
  );

  gate.it(
    'serves signup, login, create and list over HTTPS from the internet, through both app hosts',
    async () => {
      const before = { app1: taskRequests(hosts, 'app1'), app2: taskRequests(hosts, 'app2') };
      const email = uniqueEmail('multi');
      const credentials = JSON.stringify({ email, password: GOOD_PASSWORD });
      const json = { 'content-type': 'application/json' };
      const first = await hosts.probe<Answers>('internet', 'requests', {
        target: hosts.target,
        localAddress: ADDRESS.internet,
        steps: [
          { method: 'POST', path: '/api/v1/users/signup/', headers: json, body: credentials },
          { method: 'POST', path: '/api/v1/users/login/', headers: json, body: credentials },
        ],
      });
      expect(first.map(statusOf)).toEqual([201, 200]);
      const login = first[1] as { body: string };
      const token = (JSON.parse(login.body) as { token: string }).token;
      const auth = { authorization: `Token ${token}` };
      const steps = [
        { method: 'POST', path: '/api/v1/tasks/', headers: { ...auth, ...json }, body: '{"title":"across hosts"}' },
        ...Array.from({ length: 20 }, () => ({ path: '/api/v1/tasks/', headers: auth })),
        { path: '/api/v1/users/sessions/', headers: auth },
      ];
      const answers = await hosts.probe<Answers>('internet', 'requests', {
        target: hosts.target,
        localAddress: ADDRESS.internet,
        steps,
      });
      expect(answers.map(statusOf)).toEqual([201, ...Array(20).fill(200), 200]);
      for (const answer of answers.slice(1, 21)) {
        expect(JSON.parse((answer as { body: string }).body)).toMatchObject([{ title: 'across hosts' }]);
      }
      // The API saw the internet's address, told by nginx from edge's private address (TRUST_PROXY).
      const sessions = JSON.parse((answers.at(-1) as { body: string }).body) as Array<{ ip: string }>;
      expect(sessions.map((s) => s.ip)).toEqual([ADDRESS.internet, ADDRESS.internet]);
      const served = () => ({
        app1: taskRequests(hosts, 'app1') - before.app1,
        app2: taskRequests(hosts, 'app2') - before.app2,
      });
      // The request lines reach us through each app's stdout pipe, a moment after the answers.
      await expect.poll(() => served().app1 + served().app2, { timeout: 10_000 }).toBe(21);
      const { app1, app2 } = served();
      expect(app1).toBeGreaterThan(0);
      expect(app2).toBeGreaterThan(0);
      console.log(`21 task requests through nginx: app1 served ${app1}, app2 ${app2}`);
    },
    60_000,
  );

  /** Runs `body` with the switch's anti-spoofing rules removed (to prove a host's own rules, or as a control). */
  async function withoutSwitchRules<T>(body: () => Promise<T>): Promise<T> {
    const sw = hosts.ns.switch;
    const removed = spawnSync(IP, ['netns', 'exec', sw, requireTool('nft'), 'delete', 'table', 'bridge', 'ironclad']);
    expect(removed.status).toBe(0);
    try {
      return await body();
    } finally {
      const restore = spawnSync(IP, ['netns', 'exec', sw, requireTool('nft'), '-f', '-'], {
        input: switchRules(hosts.switchPorts),
        encoding: 'utf8',
      });
      expect(restore.status, restore.stderr).toBe(0);
    }
  }

  /** One account per load client, each signed up from its own source address. */
  async function loadClients(count: number): Promise<LoadClient[]> {
    const addresses = hosts.clientAddresses.slice(0, count);
    const emails = addresses.map(() => uniqueEmail('load'));
    const answers = await hosts.probe<Answers>('internet', 'requests', {
      target: hosts.target,
      steps: addresses.map((address, i) => ({
        method: 'POST',
        path: '/api/v1/users/signup/',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: emails[i], password: GOOD_PASSWORD }),
        localAddress: address,
      })),
    });
    clientEmails = emails;
    expect(answers.map(statusOf)).toEqual(addresses.map(() => 201));
    return answers.map((answer, i) => ({
      address: addresses[i] as string,
      token: (JSON.parse((answer as { body: string }).body) as { token: string }).token,
    }));
  }

  /** Every acknowledged create is in the database exactly once, and no load task is stored twice. */
  async function assertExactlyOnce(report: LoadReport): Promise<void> {
    const rows = (await hosts.cluster.admin(
      "SELECT id, title FROM tasks WHERE title LIKE 'load %'",
      hosts.database,
    )) as Array<{ id: number; title: string }>;
    const byTitle = new Map<string, number[]>();
    for (const row of rows) byTitle.set(row.title, [...(byTitle.get(row.title) ?? []), Number(row.id)]);
    const duplicated = [...byTitle].filter(([, ids]) => ids.length > 1);
    expect(duplicated).toEqual([]);
    const lost = report.acknowledged.filter((task) => byTitle.get(task.title)?.[0] !== task.id);
    expect(lost).toEqual([]);
  }

  const rampMs = 2000;
  const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

  /** SIGTERM or SIGKILL an app under load, start it again, wait until edge sees it ready. */
  async function restart(name: AppName, signal: 'SIGTERM' | 'SIGKILL', downMs = 0) {
    const stopped = await hosts.stopApp(name, signal);
    if (downMs > 0) await sleep(downMs);
    const started = await hosts.startApp(name);
    const ready = await hosts.probe<{ status: number; ms: number }>('edge', 'wait', {
      target: hosts.appTarget(name),
      path: '/readyz',
      timeoutMs: 30_000,
    });
    expect(ready.status, `${name} /readyz from edge`).toBe(200);
    return { name, exit: stopped.code, stopMs: stopped.ms, startMs: started.ms, readyMs: ready.ms };
  }

  gate.it(
    'loses no request through a rolling restart (SIGTERM app1, start it, then app2) under steady load',
    async () => {
      clients = await loadClients(16);
      const before = { app1: taskRequests(hosts, 'app1'), app2: taskRequests(hosts, 'app2') };
      // Creates are retried with their key after a refusal, as the web client does, so every one ends acknowledged.
      const load = await hosts.load({ clients, intervalMs: 200, postEvery: 5, freshEvery: 4, retryPosts: true });
      let report: LoadReport | undefined;
      const steps = [];
      try {
        await sleep(rampMs);
        steps.push(await restart('app1', 'SIGTERM'));
        await sleep(1000);
        steps.push(await restart('app2', 'SIGTERM'));
        await sleep(rampMs);
      } finally {
        report = await load.stop();
      }
      const served = {
        app1: taskRequests(hosts, 'app1') - before.app1,
        app2: taskRequests(hosts, 'app2') - before.app2,
      };
      console.log(
        `rolling restart: ${report.requests.GET} GET + ${report.requests.POST} POST in ${report.durationMs} ms ` +
          `(${report.freshConnections} on fresh TLS connections), ${report.failures.length} failed; ` +
          `latency p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms; ` +
          `served by app1 ${served.app1}, app2 ${served.app2}; steps ${JSON.stringify(steps)}`,
      );
      expect(steps.map((s) => s.exit)).toEqual([0, 0]);
      // Nothing lost to the restart: no reset, no refused connection reaching the client, no 502. The one answer
      // tolerated is the API's own "cannot do it now" (503 with Retry-After and its JSON error): its overload guard
      // and database timeouts may refuse a few requests when the CPU is starved (seen once in CI with the whole suite
      // beside this test: 15 of 1,705 within 120 ms), which a client retries. Bounded, so a restart that refuses
      // requests wholesale still fails here.
      const refusals = report.failures.filter(
        (failure) => failure.status === 503 && failure.retryAfter !== undefined && failure.message !== undefined,
      );
      const total = report.requests.GET + report.requests.POST;
      if (refusals.length > 0)
        console.log(
          `rolling restart: ${refusals.length} refused with 503 + Retry-After (${[...new Set(refusals.map((r) => r.message))].join('; ')})`,
        );
      expect(report.failures.filter((failure) => !refusals.includes(failure))).toEqual([]);
      expect(refusals.length).toBeLessThanOrEqual(Math.ceil(total * 0.02));
      expect(report.abandoned).toEqual([]);
      expect(total).toBeGreaterThan(500);
      expect(served.app1).toBeGreaterThan(0);
      expect(served.app2).toBeGreaterThan(0);
      await assertExactlyOnce(report);
    },
    120_000,
  );

  gate.it(
    'retries every GET past a kill -9 of one app host; creates retried with their key are stored exactly once',
    async () => {
      expect(clients.length).toBeGreaterThan(0);
      const load = await hosts.load({ clients, intervalMs: 200, postEvery: 5, freshEvery: 4, retryPosts: true });
      let report: LoadReport | undefined;
      let step: Awaited<ReturnType<typeof restart>> | undefined;
      try {
        await sleep(rampMs);
        // Down for 3 s: nginx must route around a dead host, not just a briefly absent one.
        step = await restart('app1', 'SIGKILL', 3000);
        await sleep(rampMs);
      } finally {
        report = await load.stop();
      }
      const getFailures = report.failures.filter((f) => f.kind === 'GET');
      const postFailures = report.failures.filter((f) => f.kind === 'POST');
      const retried = report.acknowledged.filter((task) => task.attempts > 1);
      console.log(
        `kill -9 of app1 (down ${step?.stopMs} + 3000 ms, back in ${step?.startMs} ms, ready after ${step?.readyMs} ms more): ` +
          `${report.requests.GET} GET, ${report.requests.POST} POST in ${report.durationMs} ms; GET failures ${getFailures.length}; ` +
          `POST first attempts failed ${postFailures.length} (${JSON.stringify(postFailures.map((f) => f.status ?? f.error))}), ` +
          `retried with the same key ${retried.length} (replayed ${retried.filter((t) => t.replayed).length}), ` +
          `abandoned ${report.abandoned.length}`,
      );
      expect(step?.exit).toBe(null);
      expect(getFailures).toEqual([]);
      // A create in flight on the killed host gets nginx's 502 (never retried by nginx: not idempotent).
      for (const failure of postFailures) expect(failure.status).toBe(502);
      expect(report.abandoned).toEqual([]);
      await assertExactlyOnce(report);
    },
    120_000,
  );

  gate.it(
    'answers 502 to a POST that was in flight on a killed host (nginx does not send it again)',
    async () => {
      // Logins hash a password (argon2, one or two at a time per host), so a burst of them stays in flight for a
      // while. nginx keeps no idle connections to the API, so each connection from edge to app1 is one request in
      // flight there: app1 is killed once two are. nginx may not resend a non-idempotent request it has already
      // passed on, so each of those gets a 502; a client repeats it (a login is safe to repeat).
      const inFlight = () =>
        spawnSync(
          IP,
          ['netns', 'exec', hosts.ns.edge, 'ss', '-Htn', 'state', 'established', 'dst', `${ADDRESS.app1}:${API_PORT}`],
          {
            encoding: 'utf8',
          },
        )
          .stdout.split('\n')
          .filter(Boolean).length;
      const burst = hosts.probe<Answers>('internet', 'requests', {
        target: hosts.target,
        parallel: true,
        steps: clientEmails.map((email, i) => ({
          method: 'POST',
          path: '/api/v1/users/login/',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password: GOOD_PASSWORD }),
          localAddress: clients[i]?.address,
        })),
      });
      let seen = 0;
      await expect
        .poll(
          () => {
            seen = inFlight();
            return seen >= 2;
          },
          { timeout: 30_000, interval: 5 },
        )
        .toBe(true);
      const step = await restart('app1', 'SIGKILL');
      const statuses = (await burst).map(statusOf);
      const bad = statuses.filter((status) => status !== 200);
      console.log(
        `${statuses.length} logins at once, app1 killed with ${seen} of them in flight there: ${statuses.filter((s) => s === 200).length} 200, ` +
          `${bad.length} failed (${JSON.stringify(bad)}); app1 back and ready in ${(step.startMs ?? 0) + (step.readyMs ?? 0)} ms`,
      );
      expect(bad.length).toBeGreaterThan(0);
      for (const status of bad) expect(status).toBe(502);
    },
    90_000,
  );

  gate.it('removes the namespaces of an earlier run that died without cleaning up (its pid is gone)', () => {
    const gone = Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
    const leftover = `ic${gone}-0-leftover`;
    expect(spawnSync(IP, ['netns', 'add', leftover]).status).toBe(0);
    const ours = hosts.ns.edge;
    expect(removeDeadRuns()).toContain(leftover);
    expect(namespaces()).not.toContain(leftover);
    expect(namespaces()).toContain(ours);
    // Its PostgreSQL directory too (~40 MB each): named after the run's pid like the run's own directory.
    expect(basename(hosts.cluster.dir)).toMatch(new RegExp(`^ironclad-multihost-${process.pid}-pg-`));
    const leftoverDir = join(tmpdir(), `ironclad-multihost-${gone}-pg-leftover`);
    mkdirSync(join(leftoverDir, 'data'), { recursive: true });
    writeFileSync(join(leftoverDir, 'data', 'PG_VERSION'), '15\n');
    expect(removeDeadDirs()).toContain(basename(leftoverDir));
    expect(existsSync(leftoverDir)).toBe(false);
    expect(existsSync(hosts.cluster.dir)).toBe(true);
    expect(existsSync(hosts.dir)).toBe(true);
  });

  gate.it(
    'stops and leaves no namespace or file behind',
    async () => {
      const { ms } = await hosts.stop();
      console.log(`multi-host topology stopped in ${ms} ms`);
      expect(namespaces().filter((ns) => ns.startsWith(hosts.prefix))).toEqual([]);
      expect(existsSync(hosts.dir)).toBe(false);
      expect(existsSync(hosts.cluster.dir)).toBe(false);
    },
    60_000,
  );

  gate.it(
    'removes everything when the session of `npm run topology -- --multi-host` hangs up (SIGHUP)',
    async () => {
      const ours = (names: string[]) => names.filter((ns) => /^ic\d+-/.test(ns));
      const before = new Set(ours(namespaces()));
      // Its own process group, signalled as a whole, as a terminal's hangup reaches the foreground job.
      const child = spawn(
        join(REPO, 'node_modules/.bin/tsx'),
        [join(REPO, 'deploy/serve-topology.ts'), '--multi-host'],
        {
          cwd: REPO,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout?.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr?.on('data', (chunk) => {
        output += chunk;
      });
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      let started: string[] = [];
      try {
        await expect.poll(() => output, { timeout: 120_000, interval: 200 }).toContain('hangup) stops');
        started = ours(namespaces()).filter((ns) => !before.has(ns));
        expect(started.length).toBe(6);
        const pid = /^ic(\d+)-/.exec(started[0] ?? '')?.[1];
        const dirs = () =>
          spawnSync('sh', ['-c', `ls -d ${tmpdir()}/ironclad-multihost-${pid}-* 2>/dev/null`], { encoding: 'utf8' })
            .stdout.split('\n')
            .filter(Boolean);
        expect(dirs().length).toBe(2);
        const began = performance.now();
        process.kill(-(child.pid as number), 'SIGHUP');
        // tsx itself dies of the hangup at once; the topology's own process (same group) cleans up, then exits.
        await exited;
        await expect
          .poll(() => namespaces().filter((ns) => started.includes(ns)), { timeout: 60_000, interval: 100 })
          .toEqual([]);
        await expect.poll(dirs, { timeout: 30_000, interval: 100 }).toEqual([]);
        await expect.poll(() => output, { timeout: 30_000, interval: 100 }).toContain('stopped in');
        console.log(
          `serve-topology --multi-host after SIGHUP: namespaces and directories gone in ${Math.round(performance.now() - began)} ms`,
        );
        expect(output).toContain('stopped in');
      } finally {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // the whole group is gone already
        }
        removeDeadRuns();
        removeDeadDirs();
      }
    },
    180_000,
  );
});
