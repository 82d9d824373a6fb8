/**
 * Starts the native production topology (testkit/src/topology.ts) and keeps it running until Ctrl-C, for probing
 * from outside with a browser, curl, testssl.sh or a header scanner:
 *
 *   npm run build -w server && npx tsx deploy/serve-topology.ts [--http 8080 --https 8443 --health 8081]
 *
 * Needs what the topology test needs: nginx, openssl, envsubst and PostgreSQL at 127.0.0.1:5432.
 */
import { parseArgs } from 'node:util';
import { startTopology } from '@ironclad/testkit/topology';

const { values } = parseArgs({
  options: {
    http: { type: 'string' },
    https: { type: 'string' },
    health: { type: 'string' },
    domain: { type: 'string' },
  },
});

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
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
