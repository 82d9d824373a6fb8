/**
 * What a compose service is, for the port checks: a datastore (recognised by its image, whatever registry or vendor
 * publishes it, or by a well-known datastore port it publishes), the reverse proxy, or something else. Word scans,
 * not regexes: image names are chosen by the audited repository.
 */

/** Image repository words that name a datastore, a message broker or a coordination store. */
const DATASTORE_WORDS = new Set([
  'postgres',
  'postgresql',
  'postgis',
  'pgvector',
  'timescaledb',
  'citus',
  'pgbouncer',
  'mysql',
  'mariadb',
  'percona',
  'mongo',
  'mongodb',
  'redis',
  'valkey',
  'keydb',
  'dragonfly',
  'memcached',
  'elasticsearch',
  'opensearch',
  'solr',
  'rabbitmq',
  'kafka',
  'zookeeper',
  'cassandra',
  'scylla',
  'couchdb',
  'couchbase',
  'neo4j',
  'influxdb',
  'clickhouse',
  'minio',
  'etcd',
  'cockroach',
  'cockroachdb',
  'arangodb',
  'rethinkdb',
  'mssql',
  'oracle',
  'questdb',
  'surrealdb',
  'qdrant',
  'weaviate',
  'milvus',
]);

/** Words that make an image a tool around a datastore (an exporter, an admin UI), not the datastore. */
const TOOL_WORDS = new Set([
  'exporter',
  'commander',
  'express',
  'admin',
  'pgadmin',
  'pgadmin4',
  'phpmyadmin',
  'adminer',
  'insight',
  'redisinsight',
  'ui',
  'web',
  'dashboard',
  'operator',
  'backup',
  'client',
  'cli',
  'kibana',
  'connect',
  'proxy',
]);

/** Container ports that only datastores listen on (minio's 9000 is left out: php-fpm, SonarQube and Portainer use it). */
export const DATASTORE_PORTS = new Set([
  5432, 5433, 6432, 3306, 33060, 6379, 6380, 26379, 27017, 27018, 27019, 9200, 9300, 5672, 15672, 4369, 11211, 9042,
  5984, 7474, 7687, 8086, 2379, 2380, 26257, 2181, 9092, 8123, 1433, 1521, 8529, 28015,
]);

function words(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const char of text.toLowerCase()) {
    if ((char >= 'a' && char <= 'z') || (char >= '0' && char <= '9')) current += char;
    else {
      if (current) out.push(current);
      current = '';
    }
  }
  if (current) out.push(current);
  return out;
}

/** The image's repository path without registry port, tag or digest, in lower case. */
export function imageRepository(image: string): string {
  let name = image.trim().toLowerCase();
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  return name;
}

/** The datastore an image runs (its word), or undefined. `docker.io/bitnami/postgresql:16` is `postgresql`. */
export function datastoreOfImage(image: string): string | undefined {
  if (!image) return undefined;
  const path = imageRepository(image).split('/');
  const last = words(path.at(-1) ?? '');
  if (last.some((word) => TOOL_WORDS.has(word))) return undefined;
  const found = last.find((word) => DATASTORE_WORDS.has(word));
  if (found) return found;
  // mcr.microsoft.com/mssql/server, docker.elastic.co/elasticsearch/elasticsearch: the vendor's folder names it.
  const folder = path.slice(0, -1).flatMap(words);
  return ['mssql', 'elasticsearch', 'opensearch', 'cockroachdb'].find((word) => folder.includes(word));
}

/** Service names that say "database" (kept from the first version of the check). */
const DATASTORE_NAMES = new Set([
  'db',
  'database',
  'postgres',
  'postgresql',
  'pg',
  'mysql',
  'mariadb',
  'mongo',
  'mongodb',
  'redis',
  'valkey',
  'memcached',
  'elasticsearch',
  'rabbitmq',
  'kafka',
  'zookeeper',
  'minio',
  'cassandra',
  'neo4j',
  'influxdb',
  'couchdb',
  'etcd',
  'clickhouse',
]);

export function isDatastoreName(name: string): boolean {
  return DATASTORE_NAMES.has(name.toLowerCase());
}

const PROXY_WORDS = new Set([
  'nginx',
  'traefik',
  'caddy',
  'haproxy',
  'envoy',
  'httpd',
  'apache',
  'apache2',
  'openresty',
  'swag',
  'varnish',
]);

export function isProxyImage(image: string): boolean {
  const path = imageRepository(image).split('/');
  const last = words(path.at(-1) ?? '');
  if (last.includes('exporter')) return false;
  return last.some((word) => PROXY_WORDS.has(word)) || path.slice(0, -1).flatMap(words).includes('nginx');
}

const BACKEND_NAMES = new Set(['backend', 'api', 'server', 'app', 'django', 'node']);

/** The names that mark the application server (kept from the first version of the check). */
export function isBackendName(name: string): boolean {
  return BACKEND_NAMES.has(name.toLowerCase());
}

/** A build context that is the server's folder (`./server`, `backend/`, `services/api`). */
export function isBackendContext(context: string | undefined): boolean {
  if (context === undefined) return false;
  const parts = context.split('/').filter((part) => part !== '' && part !== '.');
  const last = parts.at(-1);
  return last === 'server' || last === 'backend' || last === 'api';
}
