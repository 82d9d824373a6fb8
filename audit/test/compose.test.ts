/**
 * The compose and Kubernetes audits (audit/src/files/). Fixtures are written to temp directories (real git where
 * tracking matters); every credential is made at run time, and every test that holds one checks that no part of it
 * reaches a finding.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's own `${VAR}` interpolation is what these fixtures hold
import { afterAll, describe, expect, it } from 'vitest';
import { auditFiles } from '../src/file-checks.js';
import { literalPasswordOptions } from '../src/files/command-secrets.js';
import { auditComposeFiles, developmentReason, isComposeName } from '../src/files/compose.js';
import { interpolate } from '../src/files/compose-env.js';
import { publishedPorts } from '../src/files/compose-ports.js';
import { datastoreOfImage } from '../src/files/datastores.js';
import { auditKubernetesFiles } from '../src/files/kubernetes.js';
import { type Finding, severityRank } from '../src/findings.js';
import { cleanRepo, makeRepo, randomKey, removeTempDirs, tempDir, writeFiles } from './fixtures.js';

afterAll(removeTempDirs);

function compose(files: Record<string, string>) {
  const dir = tempDir();
  writeFiles(dir, files);
  return auditComposeFiles(dir, Object.keys(files));
}
const shown = (findings: Finding[]) => findings.map((f) => `${f.id} ${f.location ?? ''}`);
const idsOf = (findings: Finding[]) => findings.map((f) => f.id);
const atLeastWarning = (findings: Finding[]) =>
  findings.filter((f) => severityRank(f.severity) >= severityRank('warning'));
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

/** No secret, nor any 6-character piece of it, appears in what the audit reports. */
function expectNoSecret(findings: Finding[], secrets: string[]): void {
  const text = JSON.stringify(findings);
  for (const secret of secrets) {
    for (let i = 0; i + 6 <= secret.length; i += 1) expect(text).not.toContain(secret.slice(i, i + 6));
  }
}

describe('which files are compose files', () => {
  it('accepts every name compose accepts, in any folder; finds -f files by their content', () => {
    for (const name of [
      'compose.yaml',
      'compose.yml',
      'docker-compose.yml',
      'docker-compose.yaml',
      'deploy/docker-compose.prod.yml',
      'compose.staging.yaml',
      'infra/stack.compose.yml',
      'docker-compose-prod.yml',
    ]) {
      expect(isComposeName(name), name).toBe(true);
    }
    expect(isComposeName('deploy/app.yml')).toBe(false);
    const published = yaml('services:', '  db:', '    image: postgres:16', '    ports: ["5432:5432"]');
    const audit = compose({
      'deploy/stack.yml': published, // given with -f: found by content
      'ops/compose.prod.yaml': published,
      'node_modules/pkg/docker-compose.yml': published, // installed code
      'vendor/lib/docker-compose.yml': published,
      '.github/workflows/ci.yml': yaml('jobs:', '  test:', '    services:', '      db:', '        image: postgres:16'),
      '.woodpecker.yml': published, // a CI file with a compose-like services: mapping
      'k8s/pod.yaml': yaml('apiVersion: v1', 'kind: Pod', 'services:', '  db:', '    image: postgres'),
      'openapi.yaml': yaml('services:', '  - name: tasks'), // a list, not a compose mapping
    });
    expect(audit.composeFiles.sort()).toEqual(['deploy/stack.yml', 'ops/compose.prod.yaml']);
    expect(shown(audit.findings)).toEqual([
      'files.compose.db-port deploy/stack.yml:4',
      'files.compose.db-port ops/compose.prod.yaml:4',
    ]);
  });

  it('decides development files by name and folder (override included), and production ones are judged', () => {
    for (const dev of [
      'docker-compose.dev.yml',
      'compose.local.yaml',
      'docker-compose.test.yml',
      'docker-compose.ci.yml',
      'docker-compose-dev.yml',
      'docker-compose.override.yml',
      '.devcontainer/docker-compose.yml',
      'e2e/compose.yaml',
    ]) {
      expect(developmentReason(dev), dev).toBeDefined();
    }
    for (const prod of [
      'docker-compose.yml',
      'docker-compose.prod.yml',
      'compose.staging.yaml',
      'deploy/compose.yaml',
    ]) {
      expect(developmentReason(prod), prod).toBeUndefined();
    }
  });
});

describe('datastores and their ports', () => {
  it('recognises datastores by image, with registry prefixes and vendors, and not their tools', () => {
    for (const image of [
      'postgres:16',
      'postgis/postgis:16-3.4',
      'docker.io/bitnami/postgresql:16',
      'ghcr.io/acme/postgres:15@sha256:abc',
      'mysql:8',
      'mariadb:11',
      'bitnami/mysql',
      'redis:7-alpine',
      'bitnami/redis:7.2',
      'redis/redis-stack:latest',
      'valkey/valkey:8',
      'mongo:7',
      'bitnami/mongodb:7.0',
      'elasticsearch:8.13.0',
      'docker.elastic.co/elasticsearch/elasticsearch:8.13.0',
      'opensearchproject/opensearch:2',
      'rabbitmq:3-management',
      'memcached:1.6',
      'cassandra:5',
      'couchdb:3',
      'neo4j:5',
      'influxdb:2.7',
      'clickhouse/clickhouse-server:24',
      'minio/minio',
      'quay.io/coreos/etcd:v3.5',
      'zookeeper:3.9',
      'bitnami/kafka:3.7',
      'confluentinc/cp-kafka:7.6.0',
      'cockroachdb/cockroach:v23.2.0',
      'timescale/timescaledb:latest-pg16',
      'mcr.microsoft.com/mssql/server:2022-latest',
      '${REGISTRY}/postgres:${PG_VERSION:-16}',
    ]) {
      expect(datastoreOfImage(image), image).toBeDefined();
    }
    for (const image of [
      'prometheuscommunity/postgres-exporter',
      'oliver006/redis_exporter',
      'dpage/pgadmin4',
      'mongo-express',
      'rediscommander/redis-commander',
      'provectuslabs/kafka-ui',
      'node:20',
      'nginx:1.27',
      'python:3.12-slim',
    ]) {
      expect(datastoreOfImage(image), image).toBeUndefined();
    }
  });

  it('reads every port spelling; any non-loopback publication of a datastore is critical, loopback is info', () => {
    const audit = compose({
      'docker-compose.yml': yaml(
        'services:',
        '  pg:',
        '    image: postgis/postgis:16-3.4',
        '    ports:',
        '      - "5433:5432"', // 5
        '      - "0.0.0.0:5434:5432"', // 6
        '      - "[::]:5435:5432"', // 7
        '      - "5436-5437:5432-5433"', // 8
        '      - "${DB_PORT:-5432}:5432"', // 9
        '      - 5432', // 10
        '      - "127.0.0.1:5438:5432"', // 11
        '      - "[::1]:5439:5432"', // 12
        '      - "${BIND_ADDRESS:-127.0.0.1}:5440:5432"', // 13
        '      - target: 5432', // 14
        '        host_ip: 127.0.0.1',
        '        published: "5441"',
        '      - target: 5432', // 17
        '        published: "5442"',
        '        protocol: tcp',
        '  cache:',
        '    image: bitnami/redis:7.2',
        '    expose: ["6379"]', // expose only: nothing
        '  search:',
        '    image: mycompany/custom-search:1.4', // unknown image, but a datastore port
        '    ports: ["9200:9200"]',
        '  metrics:',
        '    image: prometheuscommunity/postgres-exporter:v0.15.0',
        '    ports: ["9187:9187"]',
        '  admin:',
        '    image: dpage/pgadmin4:8',
        '    ports: ["127.0.0.1:5050:80"]',
      ),
    });
    expect(shown(audit.findings)).toEqual([
      'files.compose.db-port docker-compose.yml:5',
      'files.compose.db-port docker-compose.yml:6',
      'files.compose.db-port docker-compose.yml:7',
      'files.compose.db-port docker-compose.yml:8',
      'files.compose.db-port docker-compose.yml:9',
      'files.compose.db-port docker-compose.yml:10',
      'files.compose.loopback-port docker-compose.yml:11',
      'files.compose.loopback-port docker-compose.yml:12',
      'files.compose.loopback-port docker-compose.yml:13',
      'files.compose.loopback-port docker-compose.yml:14',
      'files.compose.db-port docker-compose.yml:17',
      'files.compose.db-port docker-compose.yml:25',
    ]);
  });

  it('parses ports without being slow on hostile text', () => {
    const ports = publishedPorts(['${'.repeat(20_000), `${'['.repeat(30_000)}:5432`, ':'.repeat(60_000)], new Map());
    expect(ports).toHaveLength(3);
    const started = performance.now();
    interpolate('${A:-'.repeat(12_000), new Map());
    interpolate('$'.repeat(64 * 1024), new Map());
    literalPasswordOptions('mysql -p '.repeat(8000));
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('a proxy publishing 443 is fine; behind it an app that publishes its port bypasses it; with no proxy only the backend names count', () => {
    const withProxy = compose({
      'compose.yaml': yaml(
        'services:',
        '  proxy:',
        '    image: caddy:2.8',
        '    ports: ["80:80", "443:443"]',
        '  web:',
        '    build: .',
        '    command: ["node", "dist/server.js"]',
        '    ports: ["3000:3000"]',
        '    expose: ["3000"]',
      ),
    });
    expect(shown(withProxy.findings)).toEqual(['files.compose.backend-port compose.yaml:8']);
    const noProxy = compose({
      // The only service, publishing its port: the entry point (a host-level proxy may be in front).
      'compose.yaml': yaml('services:', '  web:', '    build: .', '    ports: ["3000:3000"]'),
    });
    expect(noProxy.findings).toEqual([]);
    const backendName = compose({
      'compose.yaml': yaml('services:', '  backend:', '    build: ./server', '    ports: ["80:8000"]'),
    });
    expect(idsOf(backendName.findings)).toEqual(['files.compose.backend-port']);
  });
});

describe('container escapes in compose', () => {
  it('reports privileged, the runtime socket (short and long syntax), host namespaces, capabilities, confinement off', () => {
    const audit = compose({
      'docker-compose.yml': yaml(
        'services:',
        '  agent:',
        '    image: example/agent:1.2',
        '    privileged: true', // 4
        '    volumes:',
        '      - /var/run/docker.sock:/var/run/docker.sock:ro', // 6
        '      - type: bind', // 7
        '        source: /run/docker.sock',
        '        target: /var/run/docker.sock',
        '      - ./data:/data',
        '    pid: host', // 11
        '    ipc: host', // 12
        '    userns_mode: host', // 13
        '    cap_add: [NET_ADMIN, CAP_SYS_ADMIN, sys_ptrace]', // 14
        '    security_opt:',
        '      - no-new-privileges:true',
        '      - seccomp=unconfined', // 17
        '      - apparmor:unconfined', // 18
        '  monitor:',
        '    image: example/monitor:2',
        '    network_mode: host', // 21
        '    volumes: ["/var/run:/host/var/run"]', // 22
        '  socket-proxy:',
        '    image: tecnativa/docker-socket-proxy:0.2',
        '    volumes: ["/var/run/docker.sock:/var/run/docker.sock:ro"]',
      ),
    });
    expect(shown(audit.findings)).toEqual([
      'files.container.privileged docker-compose.yml:4',
      'files.container.docker-socket docker-compose.yml:6',
      'files.container.docker-socket docker-compose.yml:7',
      'files.container.host-namespace docker-compose.yml:11',
      'files.container.host-namespace docker-compose.yml:12',
      'files.container.host-namespace docker-compose.yml:13',
      'files.container.capabilities docker-compose.yml:14',
      'files.container.capabilities docker-compose.yml:14',
      'files.container.capabilities docker-compose.yml:17',
      'files.container.capabilities docker-compose.yml:18',
      'files.container.host-namespace docker-compose.yml:21',
      'files.container.docker-socket docker-compose.yml:22',
    ]);
    expect(audit.findings.every((f) => f.severity === 'error')).toBe(true);
    expect(audit.findings.map((f) => f.message)).toContain('service "agent" adds capability SYS_ADMIN');
  });
});

describe('secrets written into compose files', () => {
  it('finds literal passwords in commands and health checks; interpolation passes', () => {
    const password = randomKey(20);
    const audit = compose({
      'docker-compose.yml': yaml(
        'services:',
        '  cache:',
        '    image: redis:7',
        `    command: redis-server --appendonly yes --requirepass ${password}`, // 4
        '    healthcheck:',
        `      test: ["CMD", "redis-cli", "-a", "${password}", "ping"]`, // 6
        '  cache2:',
        '    image: redis:7',
        '    command: ["sh", "-c", "redis-server --requirepass \\"$$REDIS_PASSWORD\\""]',
        '    healthcheck:',
        '      test: ["CMD-SHELL", "redis-cli -a \\"$${REDIS_PASSWORD}\\" ping"]',
        '  mysql:',
        '    image: mysql:8',
        '    environment:',
        '      MYSQL_ROOT_PASSWORD: ${MYSQL_ROOT_PASSWORD}',
        '    healthcheck:',
        `      test: mysqladmin ping -h localhost -u root -p${password}`, // 17
        '  mysql2:',
        '    image: mysql:8',
        '    healthcheck:',
        '      test: ["CMD-SHELL", "mysqladmin ping -h localhost -u root -p$$MYSQL_ROOT_PASSWORD"]',
        '  mongo:',
        '    image: mongo:7',
        '    command: mongod --auth --bind_ip_all',
        '  tool:',
        '    image: example/tool:1',
        `    entrypoint: ["/bin/tool", "--password=${password}"]`, // 27
        '  next:',
        '    image: example/next:1',
        '    command: next start -p 3000',
      ),
    });
    expect(shown(audit.findings)).toEqual([
      'files.compose.literal-secret docker-compose.yml:4',
      'files.compose.literal-secret docker-compose.yml:6',
      'files.compose.literal-secret docker-compose.yml:17',
      'files.compose.literal-secret docker-compose.yml:27',
    ]);
    expect(audit.findings[0]?.message).toBe('service "cache" command passes a literal password to --requirepass');
    expectNoSecret(audit.findings, [password]);
  });

  it('environment: literals in map and KEY=VALUE list form and in interpolation defaults; references and placeholders pass', () => {
    const secret = randomKey(40);
    const audit = compose({
      'docker-compose.yml': yaml(
        'services:',
        '  api:',
        '    image: example/api:1',
        '    environment:',
        `      API_TOKEN: ${secret}`, // 5
        `      STRIPE_SECRET: \${STRIPE_SECRET:-${secret}}`, // 6
        '      GITHUB_TOKEN: ${GITHUB_TOKEN}',
        '      SMTP_PASSWORD: $SMTP_PASSWORD',
        '      SIGNING_SECRET: "<your-signing-secret>"',
        '      DATABASE_URL: postgres://app:${DB_PASSWORD}@db:5432/app',
        '      SECRET_KEY_FILE: /run/secrets/secret_key',
        '  worker:',
        '    image: example/worker:1',
        '    environment:',
        `      - WORKER_TOKEN=${secret}`, // 15
        '      - API_TOKEN',
        `      - DATABASE_URL=postgres://app:${secret}@db:5432/app`, // 17
      ),
    });
    expect(shown(audit.findings)).toEqual([
      'files.compose.literal-secret docker-compose.yml:5',
      'files.compose.literal-secret docker-compose.yml:6',
      'files.compose.literal-secret docker-compose.yml:15',
      'files.compose.literal-secret docker-compose.yml:17',
    ]);
    expectNoSecret(audit.findings, [secret]);
  });
});

describe('the effective environment, judged by the settings rules', () => {
  it('reads env_file and environment (environment wins), maps Django names, and locates each at its line', () => {
    const dir = makeRepo([
      {
        write: {
          '.gitignore': '.env\n',
          'deploy/prod.env': `DJANGO_SECRET_KEY=django-insecure-${randomKey(40)}\nDJANGO_DEBUG=False\nDJANGO_ALLOWED_HOSTS=tasks.example.com *\n`,
          'deploy/docker-compose.yml': yaml(
            'services:',
            '  api:',
            '    build:',
            '      context: ..',
            '      dockerfile: server/Dockerfile',
            '    env_file:',
            '      - ./prod.env',
            '      - path: ./missing.env',
            '        required: false',
            '    environment:',
            '      DJANGO_DEBUG: "True"', // 11
            '      CORS_ALLOW_ALL_ORIGINS: "true"', // 12
          ),
        },
      },
    ]);
    const audit = auditComposeFiles(dir, ['deploy/prod.env', 'deploy/docker-compose.yml']);
    expect(shown(audit.findings)).toEqual([
      'config.debug deploy/docker-compose.yml:11',
      'config.allowed-hosts.wildcard deploy/prod.env:3',
      'config.cors.wildcard deploy/docker-compose.yml:12',
      'config.secret-key.weak deploy/prod.env:1',
    ]);
    const debug = audit.findings[0];
    expect(debug?.severity).toBe('critical');
    expect(debug?.message).toContain('service "api" in deploy/docker-compose.yml: DEBUG is on');
    expect(debug?.message).toContain("compose's environment: wins over deploy/prod.env");
    expect(audit.envFiles).toEqual(['deploy/prod.env']);
    expect(audit.secretEnvFiles).toEqual(['deploy/prod.env']);
    expect(audit.contexts).toEqual([{ context: '.', dockerfile: 'server/Dockerfile' }]);
  });

  it('a tracked env_file with secrets is reported as tracked, like .env', async () => {
    const dir = makeRepo([
      {
        write: {
          '.gitignore': '.env\n',
          'deploy/prod.env': `POSTGRES_PASSWORD=${randomKey(24)}\n`,
          'deploy/settings.env': 'NODE_ENV=production\nPORT=3000\n', // no secret: configuration, fine to commit
          'deploy/compose.yaml': yaml(
            'services:',
            '  api:',
            '    image: example/api:1',
            '    env_file: [prod.env, settings.env]',
          ),
        },
      },
    ]);
    const { findings } = await auditFiles(dir, { history: false });
    expect(findings.filter((f) => f.id === 'files.git.env-tracked').map((f) => f.location)).toEqual([
      'deploy/prod.env',
    ]);
  });

  it('interpolates: defaults count as set by the file, the project .env beside a compose file in a folder too; the root .env is the config audit’s', () => {
    const audit = compose({
      '.env': 'DEBUG=true\nALLOWED_HOSTS=*\n',
      'docker-compose.yml': yaml(
        'services:',
        '  api:',
        '    image: example/api:1',
        '    env_file: .env',
        '    environment:',
        '      ALLOWED_HOSTS: ${ALLOWED_HOSTS}', // from the root .env: the config audit reports it
        '      NODE_ENV: ${NODE_ENV:-development}', // 7: the file's own default
      ),
      'deploy/.env': 'CORS_ORIGIN=*\n',
      'deploy/compose.yaml': yaml(
        'services:',
        '  app:',
        '    image: example/app:1',
        '    environment:',
        '      CORS_ORIGIN: ${CORS_ORIGIN}', // 5: deploy/.env is no one else's
        '      JWT_SECRET: ${JWT_SECRET}', // unresolvable: unset, not judged
        '      DJANGO_DEBUG: ${DJANGO_DEBUG:-False}',
      ),
    });
    expect(shown(audit.findings)).toEqual([
      'config.debug docker-compose.yml:7',
      'config.cors.wildcard deploy/compose.yaml:5',
    ]);
    expect(audit.findings[0]?.message).toContain('NODE_ENV read as DEBUG');
  });

  it('Node spellings: HMAC secrets are judged for placeholders and from 32 characters; CORS * and DEBUG', () => {
    const strong = randomKey(40);
    const audit = compose({
      'compose.yaml': yaml(
        'services:',
        '  api:',
        '    image: example/api:1',
        '    environment:',
        '      SESSION_SECRET: "keyboard cat"', // 5
        `      JWT_SECRET: ${strong}`, // 6: literal (critical), but not weak
        '      CORS_ORIGINS: "*"', // 7
        '      CORS_ORIGIN: "https://app.example.com/"', // another stack's syntax: not judged by this grammar
      ),
    });
    expect(shown(audit.findings)).toEqual([
      'files.compose.literal-secret compose.yaml:5',
      'files.compose.literal-secret compose.yaml:6',
      'config.cors.wildcard compose.yaml:7',
      'config.secret-key.weak compose.yaml:5',
    ]);
    expectNoSecret(audit.findings, [strong]);
  });

  it('datastores get only the database password rules, for every vendor spelling', () => {
    const audit = compose({
      'docker-compose.yml': yaml(
        'services:',
        '  db:',
        '    image: postgres:16',
        '    environment:',
        '      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-postgres}', // 5
        '      DEBUG: "true"', // not a datastore's setting
        '  mysql:',
        '    image: mysql:8',
        '    environment:',
        '      - MYSQL_ROOT_PASSWORD=root', // 10
        '  mq:',
        '    image: rabbitmq:3-management',
        '    environment:',
        '      RABBITMQ_DEFAULT_USER: guest',
        '      RABBITMQ_DEFAULT_PASS: guest', // 15
        '  pg2:',
        '    image: bitnami/postgresql:16',
        '    environment:',
        '      POSTGRES_HOST_AUTH_METHOD: trust', // 19
        '  cache:',
        '    image: bitnami/redis:7.2',
        '    environment:',
        '      ALLOW_EMPTY_PASSWORD: "yes"', // redis on the private network: by design
        '  db2:',
        '    image: postgres:16',
        '    environment:',
        '      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}', // unresolvable: unset
        '      POSTGRES_USER: tasks',
      ),
    });
    expect(shown(audit.findings)).toEqual([
      'files.compose.literal-secret docker-compose.yml:5',
      'config.database.password-placeholder docker-compose.yml:5',
      'files.compose.literal-secret docker-compose.yml:10',
      'config.database.password-placeholder docker-compose.yml:10',
      'files.compose.literal-secret docker-compose.yml:15',
      'config.database.password-equals-user docker-compose.yml:15',
      'config.database.password-empty docker-compose.yml:19',
    ]);
  });

  it('database URLs of any scheme, and DB_PASSWORD, are judged for placeholder passwords', () => {
    const audit = compose({
      'docker-compose.yml': yaml(
        'services:',
        '  api:',
        '    image: example/api:1',
        '    environment:',
        '      DATABASE_URL: mysql://app:password@db:3306/app', // 5
        '      DB_USER: app',
        '      DB_PASSWORD: app', // 7
        '      SMTP_PASSWORD: changeme', // not a database's
      ),
    });
    expect(shown(audit.findings)).toEqual([
      'files.compose.literal-secret docker-compose.yml:5',
      'files.compose.literal-secret docker-compose.yml:7',
      'config.database.password-equals-user docker-compose.yml:7',
      'config.database.password-placeholder docker-compose.yml:5',
    ]);
  });

  it('a service that sets nothing raises nothing; secrets given as files are not missing', () => {
    const audit = compose({
      'docker-compose.yml': yaml(
        'services:',
        '  api:',
        '    image: example/api:1',
        '    env_file: .env',
        '    environment:',
        '      WEB_CONCURRENCY: "4"',
        '      DB_HOST: db',
        '      POSTGRES_DB: tasks',
        '      SECRET_KEY_FILE: /run/secrets/secret_key',
        '      POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password',
        '      DOMAIN: tasks.example.com',
        '      TRUST_PROXY: 10.89.0.2',
      ),
    });
    expect(audit.findings).toEqual([]);
  });

  it('an Ironclad deployment: PUBLIC_URL and SMTP_URL by the email rules, each at its line; an SMTP_URL is a secret only by its password', () => {
    const password = randomKey(28);
    const service = (...environment: string[]) =>
      yaml(
        'services:',
        '  backend:',
        '    image: ghcr.io/acme/ironclad-tasks-api:1.4.0',
        '    environment:',
        ...environment.map((line) => `      ${line}`),
        '  relay:',
        '    image: boky/postfix:4.3.0',
      );
    const judged = (text: string, app?: 'other') => {
      const dir = tempDir();
      writeFiles(dir, { 'docker-compose.yml': text });
      return auditComposeFiles(dir, ['docker-compose.yml'], app ? { app } : {}).findings;
    };
    const faulty = service(
      'ALLOWED_HOSTS: tasks.example.com', // 5
      'PUBLIC_URL: http://tasks.example.net', // 6
      'SMTP_URL: smtp://relay:25?tls=none', // 7
    );
    expect(shown(judged(faulty))).toEqual([
      'config.email.public-url-host docker-compose.yml:6',
      'config.email.public-url-http docker-compose.yml:6',
      'config.email.smtp-plaintext docker-compose.yml:7',
    ]);
    expect(judged(faulty)[2]?.message).toBe(
      'service "backend" in docker-compose.yml: SMTP_URL: sends in plain text (?tls=none) to relay, which is not loopback; the password and reset links would travel in clear (SMTP_URL, set in environment:)',
    );
    // Another application's PUBLIC_URL (Create React App's path prefix) and SMTP_URL mean other things.
    expect(judged(faulty, 'other')).toEqual([]);

    // The password in a literal SMTP_URL is a literal secret, not a fault of the URL's other parts.
    const literal = judged(service(`SMTP_URL: smtps://tasks:${password}@smtp.example.com:465`));
    expect(shown(literal)).toEqual(['files.compose.literal-secret docker-compose.yml:5']);
    expectNoSecret(literal, [password]);
    expect(
      judged(
        service(
          'SMTP_URL: smtps://tasks:${SMTP_PASSWORD:?set it in .env}@smtp.example.com:465',
          'PUBLIC_URL: https://tasks.example.com',
          'ALLOWED_HOSTS: tasks.example.com',
        ),
      ),
    ).toEqual([]);
    // What the checkout does not say is not judged: ALLOWED_HOSTS and PUBLIC_URL may be in the operator's .env.
    expect(judged(service('PUBLIC_URL: https://tasks.example.com'))).toEqual([]);
    expect(judged(service('SMTP_URL: smtps://relay.internal:465'))).toEqual([]);
    expect(judged(service('SMTP_URL_FILE: /run/secrets/smtp_url'))).toEqual([]);
    // Plain text to a relay on loopback (one in the same network namespace) is allowed, as at start.
    expect(judged(service('SMTP_URL: smtp://127.0.0.1:25?tls=none'))).toEqual([]);

    // A Kubernetes ConfigMap of the deployment is read the same way.
    const dir = tempDir();
    writeFiles(dir, {
      'k8s/config.yaml': yaml(
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: tasks',
        'data:',
        '  SMTP_URL: smtp://mail.internal:25?tls=none', // 6
      ),
    });
    expect(shown(auditKubernetesFiles(dir, ['k8s/config.yaml']).findings)).toEqual([
      'config.email.smtp-plaintext k8s/config.yaml:6',
    ]);
    expect(auditKubernetesFiles(dir, ['k8s/config.yaml'], { app: 'other' }).findings).toEqual([]);
  });
});

describe("the seed's before state, as a realistic variant", () => {
  it('moved to deploy/ with a .env beside it: ports, literals, reload and every setting, each at its line, no value printed', () => {
    const dbPassword = `pw${randomKey(16)}`;
    const key = `django-insecure-${randomKey(40)}`;
    const audit = compose({
      'deploy/.env': `DJANGO_SECRET_KEY=${key}\nDB_PASSWORD=${dbPassword}\n`,
      'deploy/docker-compose.yml': yaml(
        "version: '3.9'",
        'services:',
        '  db:',
        '    image: postgres:15',
        '    container_name: postgres-container',
        '    environment:',
        '      - POSTGRES_USER=cp_user',
        '      - POSTGRES_PASSWORD=password', // 8
        '      - POSTGRES_DB=task_db',
        '    ports:',
        '      - "5433:5432"', // 11
        '  backend:',
        '    build: ../server',
        '    command: sh -c "gunicorn task_proj.wsgi --bind 0.0.0.0:8000 --reload"', // 14
        '    environment:',
        '      DJANGO_DEBUG: "True"', // 16
        "      DJANGO_ALLOWED_HOSTS: '0.0.0.0 localhost *'", // 17
        '      CORS_ORIGIN_ALLOW_ALL: "True"', // 18
        '      DJANGO_SECRET_KEY: ${DJANGO_SECRET_KEY}', // 19: from deploy/.env
        '      DB_PASSWORD: ${DB_PASSWORD}',
        '    ports:',
        '      - "8000:8000"', // 22
      ),
    });
    expect(shown(audit.findings)).toEqual([
      'files.compose.db-port deploy/docker-compose.yml:11',
      'files.compose.literal-secret deploy/docker-compose.yml:8',
      'config.database.password-placeholder deploy/docker-compose.yml:8',
      'files.compose.backend-port deploy/docker-compose.yml:22',
      'files.reload-mode deploy/docker-compose.yml:14',
      'config.debug deploy/docker-compose.yml:16',
      'config.allowed-hosts.wildcard deploy/docker-compose.yml:17',
      'config.cors.wildcard deploy/docker-compose.yml:18',
      'config.secret-key.weak deploy/docker-compose.yml:19',
    ]);
    expect(audit.contexts).toEqual([{ context: 'server', dockerfile: 'server/Dockerfile' }]);
    expect(audit.findings.find((f) => f.id === 'config.secret-key.weak')?.message).toContain(
      'service "backend" in deploy/docker-compose.yml',
    );
    expectNoSecret(audit.findings, [dbPassword, key]);
  });
});

describe('development compose files', () => {
  it('lists what would be faults once per file, at info; profiles named for development too', () => {
    const audit = compose({
      'docker-compose.dev.yml': yaml(
        'services:',
        '  db:',
        '    image: postgres:16',
        '    ports: ["5432:5432"]',
        '    environment:',
        '      POSTGRES_PASSWORD: postgres',
        '  api:',
        '    build: .',
        '    command: npm run dev',
        '    privileged: true',
        '    environment:',
        '      DEBUG: "1"',
      ),
      'docker-compose.override.yml': yaml('services:', '  db:', '    ports: ["5432:5432"]'),
      'docker-compose.yml': yaml(
        'services:',
        '  db:',
        '    image: postgres:16',
        '  pgadmin-db:',
        '    image: postgres:16',
        '    profiles: [dev]',
        '    ports: ["5433:5432"]',
      ),
    });
    expect(audit.findings.every((f) => f.id === 'files.compose.development' && f.severity === 'info')).toBe(true);
    expect(shown(audit.findings).sort()).toEqual([
      'files.compose.development docker-compose.dev.yml',
      'files.compose.development docker-compose.override.yml',
      'files.compose.development docker-compose.yml',
    ]);
    const dev = audit.findings.find((f) => f.location === 'docker-compose.dev.yml');
    expect(dev?.message).toMatch(/^docker-compose\.dev\.yml is a development compose file \(named "dev"\)/);
    for (const id of ['files.compose.db-port', 'config.debug', 'files.container.privileged', 'files.reload-mode']) {
      expect(dev?.message).toContain(id);
    }
    expect(audit.developmentFiles.sort()).toEqual(['docker-compose.dev.yml', 'docker-compose.override.yml']);
  });
});

describe('Kubernetes workloads', () => {
  it('reports the same escapes in every workload kind, multi-document, at their lines', () => {
    const dir = tempDir();
    writeFiles(dir, {
      'k8s/agent.yaml': yaml(
        'apiVersion: apps/v1',
        'kind: DaemonSet',
        'metadata: { name: agent }',
        'spec:',
        '  template:',
        '    spec:',
        '      hostPID: true', // 7
        '      hostNetwork: true', // 8
        '      containers:',
        '        - name: agent',
        '          image: example/agent:1',
        '          securityContext:', // 12
        '            privileged: true',
        '            capabilities:',
        '              add: ["SYS_ADMIN", "NET_BIND_SERVICE"]',
        '      volumes:',
        '        - name: sock', // 17
        '          hostPath: { path: /var/run/docker.sock }',
        '---',
        'apiVersion: batch/v1',
        'kind: CronJob',
        'metadata: { name: nightly }',
        'spec:',
        '  jobTemplate:',
        '    spec:',
        '      template:',
        '        spec:',
        '          securityContext:', // 28
        '            seccompProfile: { type: Unconfined }',
        '          containers: [{ name: job, image: "example/job:1" }]',
      ),
      'k8s/clean.yaml': yaml(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: api }',
        'spec:',
        '  template:',
        '    spec:',
        '      securityContext: { runAsNonRoot: true, seccompProfile: { type: RuntimeDefault } }',
        '      containers:',
        '        - name: api',
        '          image: example/api:1',
        '          securityContext:',
        '            allowPrivilegeEscalation: false',
        '            capabilities: { drop: [ALL], add: [NET_BIND_SERVICE] }',
      ),
      'chart/templates/deployment.yaml': yaml(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'spec:',
        '  template:',
        '    spec:',
        '      {{- if .Values.hostNetwork }}',
        '      hostNetwork: true',
        '      {{- end }}',
      ),
    });
    const { findings, manifests } = auditKubernetesFiles(dir, [
      'k8s/agent.yaml',
      'k8s/clean.yaml',
      'chart/templates/deployment.yaml',
    ]);
    const escapes = findings.filter((item) => item.id.startsWith('files.container.'));
    // The Kubernetes-only checks (audit/test/kubernetes.test.ts has their own cases): clean.yaml keeps a writable root.
    expect(shown(findings.filter((item) => item.id.startsWith('files.k8s.')))).toEqual([
      'files.k8s.not-restricted k8s/agent.yaml:10',
      'files.k8s.not-restricted k8s/agent.yaml:30',
      'files.k8s.not-restricted k8s/clean.yaml:9',
      'files.k8s.no-network-policy k8s/agent.yaml',
      // The Helm template is not YAML: not judged, but named (info), so a clean report never means "not read".
      'files.k8s.not-audited chart/templates/deployment.yaml',
    ]);
    expect(shown(escapes)).toEqual([
      'files.container.host-namespace k8s/agent.yaml:7',
      'files.container.host-namespace k8s/agent.yaml:8',
      'files.container.docker-socket k8s/agent.yaml:17',
      'files.container.privileged k8s/agent.yaml:13',
      'files.container.capabilities k8s/agent.yaml:13',
      'files.container.capabilities k8s/agent.yaml:29',
    ]);
    expect(manifests).toEqual(['k8s/agent.yaml', 'k8s/clean.yaml']);
  });
});

describe('clean but tricky', () => {
  it('a careful repository with dev files, placeholders, loopback ports and secrets by reference has nothing at warning or above', async () => {
    const dir = cleanRepo();
    writeFiles(dir, {
      'deploy/docker-compose.prod.yml': yaml(
        'services:',
        '  proxy:',
        '    image: nginx:1.27-alpine',
        '    ports: ["80:80", "443:443"]',
        '    volumes: ["./nginx.conf:/etc/nginx/nginx.conf:ro"]',
        '  web:',
        '    build: { context: .., dockerfile: Dockerfile }',
        '    expose: ["8000"]',
        '    environment:',
        '      DJANGO_DEBUG: ${DJANGO_DEBUG:-False}',
        '      DJANGO_ALLOWED_HOSTS: ${DJANGO_ALLOWED_HOSTS}',
        '      DJANGO_SECRET_KEY: ${DJANGO_SECRET_KEY:?set it in .env}',
        '      DATABASE_URL: postgres://app:${POSTGRES_PASSWORD}@db:5432/app',
        '      CORS_ALLOWED_ORIGINS: https://tasks.example.com',
        '      NODE_ENV: production',
        '    command: gunicorn app.wsgi --bind 0.0.0.0:8000 --workers 3',
        '    cap_drop: [ALL]',
        '    security_opt: ["no-new-privileges:true"]',
        '  db:',
        '    image: postgres:16-alpine',
        '    environment:',
        '      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}',
        '      POSTGRES_USER: app',
        '    healthcheck:',
        '      test: ["CMD-SHELL", "pg_isready -U $${POSTGRES_USER}"]',
        '  cache:',
        '    image: redis:7-alpine',
        '    command: ["redis-server", "--requirepass", "$${REDIS_PASSWORD}"]',
        '    ports: ["127.0.0.1:6379:6379"]',
        '  socket-proxy:',
        '    image: tecnativa/docker-socket-proxy:0.2',
        '    volumes: ["/var/run/docker.sock:/var/run/docker.sock:ro"]',
      ),
      'docker-compose.dev.yml': yaml(
        'services:',
        '  db:',
        '    image: postgres:16',
        '    ports: ["5432:5432"]',
        '    environment: [POSTGRES_PASSWORD=postgres]',
        '  web:',
        '    build: .',
        '    command: python manage.py runserver 0.0.0.0:8000',
        '    ports: ["8000:8000"]',
        '    environment: { DJANGO_DEBUG: "True" }',
      ),
      '.devcontainer/docker-compose.yml': yaml(
        'services:',
        '  dev:',
        '    image: mcr.microsoft.com/devcontainers/python:3.12',
        '    volumes: ["/var/run/docker.sock:/var/run/docker.sock"]',
      ),
      'k8s/deployment.yaml': yaml(
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: web }',
        'spec:',
        '  template:',
        '    spec:',
        '      securityContext: { runAsNonRoot: true, seccompProfile: { type: RuntimeDefault } }',
        '      containers:',
        '        - name: web',
        '          image: "example/web:1.0"',
        '          securityContext:',
        '            { capabilities: { drop: [ALL] }, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true }',
      ),
      'k8s/network-policy.yaml': yaml(
        'apiVersion: networking.k8s.io/v1',
        'kind: NetworkPolicy',
        'metadata: { name: default-deny }',
        'spec: { podSelector: {}, policyTypes: [Ingress, Egress] }',
      ),
    });
    const { findings } = await auditFiles(dir, { history: false });
    const compose = findings.filter((f) => !f.id.startsWith('files.dockerignore'));
    expect(shown(atLeastWarning(compose))).toEqual([]);
    expect(idsOf(compose).filter((id) => id === 'files.compose.development')).toHaveLength(2);
  });
});
