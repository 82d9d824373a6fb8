/**
 * Starts the native production topology (testkit/src/topology.ts) and keeps it running until Ctrl-C, for probing
 * from outside with a browser, curl, testssl.sh or a header scanner:
 *
 *   npm run build -w server && npx tsx deploy/serve-topology.ts [--http 8080 --https 8443 --health 8081]
 *
 * Needs what the topology test needs: nginx, openssl, envsubst and PostgreSQL at 127.0.0.1:5432.
 *
 * With --multi-host, the topology on separate hosts instead (testkit/src/multi-host.ts): network namespaces for
 * internet, edge, app1, app2 and db; it prints how to enter each one. Needs root, iproute2, nftables, dnsmasq and
 * PostgreSQL's server binaries (deploy/test/multi-host.test.ts runs the same).
 */
import { parseArgs } from 'node:util';
import { ADDRESS, EDGE_HEALTH, startMultiHost } from '@ironclad/testkit/multi-host';
import { startTopology } from '@ironclad/testkit/topology';

const { values } = parseArgs({
  options: {
    http: { type: 'string' },
    https: { type: 'string' },
    health: { type: 'string' },
    domain: { type: 'string' },
    'multi-host': { type: 'boolean' },
  },
});

if (values['multi-host']) {
  const hosts = await startMultiHost(values.domain ? { domain: values.domain } : {});
  const { domain, ns, certPath } = hosts;
  const curl = `curl --cacert ${certPath} --resolve ${domain}:443:${ADDRESS.edgePublic}`;
  process.stdout.write(
    [
      `multi-host topology for ${domain} up in ${hosts.startMs} ms; namespaces (ip netns list):`,
      `  internet ${ns.internet}   ${ADDRESS.internet} (and ${hosts.clientAddresses[0]}-${hosts.clientAddresses.at(-1)} for clients)`,
      `  edge     ${ns.edge}   ${ADDRESS.edgePublic} public, ${ADDRESS.edgePrivate} private; nginx, dnsmasq on 127.0.0.1`,
      `  app1     ${ns.app1}   ${ADDRESS.app1}:8000`,
      `  app2     ${ns.app2}   ${ADDRESS.app2}:8000`,
      `  db       ${ns.db}   ${ADDRESS.db}:5432 (admin: psql -h ${hosts.cluster.dir} -p 5432 -U postgres ${hosts.database})`,
      `  bridges  in ${ns.switch}`,
      'Try:',
      `  ip netns exec ${ns.internet} ${curl} -i https://${domain}/api/v1/test/`,
      `  ip netns exec ${ns.internet} nmap -Pn -sS -p- -T4 ${ADDRESS.edgePublic}`,
      `  ip netns exec ${ns.edge} curl -s http://${EDGE_HEALTH}/nginx-health`,
      `  ip netns exec ${ns.edge} curl -s http://${ADDRESS.app1}:8000/readyz`,
      `  ip netns exec ${ns.db} nft list ruleset`,
      `  ip netns exec ${ns.edge} bash     # a shell on the edge host`,
      'Ctrl-C (or SIGTERM, or a hangup) stops every process and removes the namespaces and files.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    const { ms } = await hosts.stop();
    process.stdout.write(`stopped in ${ms} ms\n`);
    process.exit(0);
  };
  // SIGHUP: the terminal or SSH session went away; everything must still be removed.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, shutdown);
} else {
  const ports =
    values.http && values.https && values.health
      ? { http: Number(values.http), https: Number(values.https), health: Number(values.health) }
      : undefined;
  const topology = await startTopology({
    ...(values.domain ? { domain: values.domain } : {}),
    ...(ports ? { ports } : {}),
  });
  const { domain, httpPort, httpsPort, apiPort, certPath } = topology;
  process.stdout.write(
    [
      `nginx for ${domain}: https on 127.0.0.1:${httpsPort}, http on 127.0.0.1:${httpPort} (API on 127.0.0.1:${apiPort})`,
      `certificate (self-signed, trust it as the CA): ${certPath}`,
      `  curl --cacert ${certPath} --resolve ${domain}:${httpsPort}:127.0.0.1 -i https://${domain}:${httpsPort}/`,
      `  testssl.sh --ip 127.0.0.1 ${domain}:${httpsPort}`,
      'Ctrl-C stops nginx and the API and drops the database.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await topology.stop();
    process.exit(0);
  };
  // SIGHUP: the terminal or SSH session went away; everything must still be removed.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, shutdown);
}
