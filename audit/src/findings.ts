/**
 * What the auditor reports. Every check has one entry in CHECKS: its stable ID, severity, area and the
 * fix. The code raises findings by ID only, so docs/audit.md (a test compares it with this list) and the
 * JSON output cannot disagree about what an ID means. A finding's message never holds a secret's value.
 *
 * The configuration checks are not written here: they are the settings' security rules
 * (@ironclad/config/rules), which the server's loader evaluates too, plus the loader's parse problems
 * (`config.refused`) and the one check about the API build rather than its settings (`config.hsts.weak`).
 */
import { PARSE_PROBLEM, RULES, type RuleId, SEVERITIES, type Severity } from '@ironclad/config/rules';

export { SEVERITIES, type Severity };

export const AREAS = ['config', 'files', 'live'] as const;
export type Area = (typeof AREAS)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export interface CheckDefinition {
  readonly severity: Severity;
  /** What triggers it, for the docs. */
  readonly trigger: string;
  readonly fix: string;
}

const definitionOf = ({ severity, trigger, fix }: CheckDefinition): CheckDefinition => ({ severity, trigger, fix });

/** One entry per rule of the settings' rules table, in its order. */
const CONFIG_RULE_CHECKS = Object.fromEntries(RULES.map((rule) => [rule.id, definitionOf(rule)])) as Record<
  RuleId,
  CheckDefinition
>;

export const CHECKS = {
  // --- Configuration (the same loader and rules as the server) ---
  [PARSE_PROBLEM.id]: definitionOf(PARSE_PROBLEM),
  ...CONFIG_RULE_CHECKS,
  'config.hsts.weak': {
    severity: 'error',
    trigger: 'The API build sends no `Strict-Transport-Security`, or one shorter than a year (config/src/headers.ts).',
    fix: 'Restore strictTransportSecurity (two years, includeSubDomains) in config/src/headers.ts.',
  },

  // --- Repository and deployment files ---
  'files.compose.db-port': {
    severity: 'critical',
    trigger: `A datastore service in a compose file publishes a port on a non-loopback address (the seed's \`"5433:5432"\`; any spelling: \`"0.0.0.0:5432:5432"\`, \`"[::]:…"\`, ranges, \`"\${DB_PORT:-5432}:5432"\`, long syntax), or runs with \`network_mode: host\`. Datastores are recognised by image with any registry or vendor prefix (postgres, postgis, bitnami/postgresql, mysql, mariadb, redis, valkey, mongo, elasticsearch, opensearch, rabbitmq, memcached, cassandra, couchdb, neo4j, influxdb, clickhouse, minio, etcd, zookeeper, kafka, cockroachdb, timescaledb, mssql, ...), by a name such as \`db\`, or by publishing a well-known datastore port (5432, 3306, 6379, 27017, 9200, 5672, 11211, 9042, 7687, 2379, 26257, ...).`,
    fix: 'Remove `ports:` from the database service; the backend reaches it by service name on the compose network.',
  },
  'files.compose.backend-port': {
    severity: 'error',
    trigger:
      'The backend service (named backend, api, server, app, django or node, or built from server/, backend/, api/; behind a proxy in the same file, any application service) publishes a port (the seed\'s `"8000:8000"`) or runs with `network_mode: host`, bypassing the proxy and its TLS.',
    fix: 'Remove `ports:` from the backend (use `expose:`); only the proxy publishes 80 and 443.',
  },
  'files.compose.loopback-port': {
    severity: 'info',
    trigger:
      'A datastore or backend port is published on a loopback address only (`127.0.0.1:…`, `[::1]:…`, `host_ip: 127.0.0.1`): reachable from the host machine.',
    fix: 'Remove it unless a local tool needs it.',
  },
  'files.compose.literal-secret': {
    severity: 'critical',
    trigger: `A compose file writes a secret's value itself: an \`environment:\` entry (map or \`KEY=VALUE\` list) giving a secret-named variable (PASSWORD, _PASS, SECRET, SECRET_KEY, TOKEN, API_KEY, a DATABASE_URL or SMTP_URL with a password) a literal or an interpolation default (\`\${DB_PASSWORD:-…}\`), or a \`command:\`, \`entrypoint:\` or healthcheck test passing a literal password (\`--requirepass …\`, \`--password=…\`, mysql \`-p…\`, \`mongosh -p …\`, \`redis-cli -a …\`). \`$VAR\`/\`\${VAR}\` references and placeholders (\`<your-key>\`, \`changeme\`) pass.`,
    fix: 'Move the value to .env (env_file) or a Docker secret (`<NAME>_FILE=/run/secrets/...`); reference it as "$NAME" interpolation.',
  },
  'files.reload-mode': {
    severity: 'warning',
    trigger:
      'A compose command or Dockerfile CMD runs a reload/watch/dev mode (`--reload`, `--watch`, nodemon, runserver, `npm run dev`).',
    fix: 'Run the production start command (e.g. `node dist/main.js`) without file watching.',
  },
  'files.git.env-tracked': {
    severity: 'critical',
    trigger: 'A `.env` file (not `.env.example`) is tracked by git.',
    fix: '`git rm --cached .env`, add `.env` to .gitignore, and rotate every secret it held.',
  },
  'files.git.env-in-history': {
    severity: 'critical',
    trigger: 'A `.env` file was committed at some point in git history (even if deleted since).',
    fix: 'Rotate every secret it held; rewrite history (git filter-repo) if the repository is shared.',
  },
  'files.gitignore.env': {
    severity: 'error',
    trigger: '`.gitignore` does not ignore `.env` (checked with `git check-ignore --no-index`).',
    fix: 'Add `.env` (and `.env.*` with `!.env.example`) to .gitignore.',
  },
  'files.dockerignore.missing': {
    severity: 'error',
    trigger: 'A Docker build context has no `.dockerignore`, so `.env` and `.git` would be sent into the image build.',
    fix: 'Add a .dockerignore to the build context that excludes at least .env and .git.',
  },
  'files.dockerignore.env': {
    severity: 'error',
    trigger: '`.dockerignore` does not exclude `.env`: the secrets would be copied into images by `COPY . .`.',
    fix: 'Add `.env` (and `**/.env`) to .dockerignore.',
  },
  'files.dockerignore.git': {
    severity: 'warning',
    trigger:
      '`.dockerignore` does not exclude `.git`: the whole history (and any secret in it) enters the build context.',
    fix: 'Add `.git` to .dockerignore.',
  },
  'files.env-example.missing': {
    severity: 'warning',
    trigger: 'There is no `.env.example` documenting the variables an operator must set.',
    fix: 'Generate it: `npm run gen:config` (from config/src/schema.ts).',
  },
  'files.env-example.incomplete': {
    severity: 'warning',
    trigger: '`.env.example` does not mention every setting the schema knows.',
    fix: 'Regenerate it with `npm run gen:config`.',
  },
  'files.env-example.real-secret': {
    severity: 'critical',
    trigger:
      'A secret in an env template (`.env.example`, `.env.sample`, `prod.env.template`, ... in any folder but tests and docs) holds a value that looks real (high entropy, a Django key, a known credential pattern), not a placeholder.',
    fix: 'Replace it with an empty value or a placeholder, and rotate the secret.',
  },
  'files.dockerfile.root': {
    severity: 'error',
    trigger: "A Dockerfile's final stage has no `USER`, or runs as `root`/`0`.",
    fix: 'Add `USER node` (or another unprivileged user) after the last install step of the final stage.',
  },
  'files.dockerfile.secret-build-arg': {
    severity: 'critical',
    trigger:
      'A Dockerfile declares a secret as `ARG` or `ENV` (PASSWORD, SECRET, TOKEN, KEY, DATABASE_URL): it stays in the image or its history.',
    fix: 'Pass secrets at run time (env_file, Docker secrets) or with `RUN --mount=type=secret` at build time.',
  },
  'files.dockerfile.latest': {
    severity: 'warning',
    trigger:
      'A Dockerfile `FROM` uses `:latest` or no tag, so builds are not reproducible and can change underneath you.',
    fix: 'Pin a version tag (e.g. node:20.19-bookworm-slim), ideally with an @sha256 digest.',
  },
  'files.secret.pattern': {
    severity: 'critical',
    trigger:
      'secretlint (preset-recommend) finds a credential in a tracked file: private key, cloud/API token, DB URL with a password, ...',
    fix: 'Remove it from the file (read it from the environment), rotate it, and purge it from history.',
  },
  'files.secret.hardcoded': {
    severity: 'critical',
    trigger:
      'Source code assigns a string literal to a secret-named setting (`SECRET_KEY = \'...\'`, `"PASSWORD": "..."`).',
    fix: 'Read it from the environment (or a *_FILE secret) instead, and rotate it.',
  },
  'files.secret.entropy': {
    severity: 'warning',
    trigger: 'A tracked file holds a long high-entropy string assigned to a name or quoted (a likely key or token).',
    fix: 'If it is a secret, move it to the environment and rotate it; otherwise silence with `files.secret.entropy@<path>`.',
  },
  'files.history.secret': {
    severity: 'critical',
    trigger:
      'A file anywhere in git history (all refs) holds a credential found by secretlint or a high-entropy secret assignment.',
    fix: 'Rotate the secret (it is public to anyone with the history); rewrite history if the repository is shared.',
  },

  'files.history.incomplete': {
    severity: 'warning',
    trigger:
      'Part of git history could not be scanned: a blob over the 32 MiB bound or unreadable, or a shallow clone whose older commits are not there; a note names each.',
    fix: 'Audit a full clone (`git fetch --unshallow`); scan a named blob another way (git-secrets, gitleaks); the audit never skips silently.',
  },
  'files.compose.development': {
    severity: 'info',
    trigger:
      'A compose file named for development (`*.dev.yml`, `*.local.yml`, `*.test.yml`, `*.ci.yml`, `*-dev.yml`, `*.e2e.yml`, `docker-compose.override.yml`, or under `.devcontainer/`, `test/`, `e2e/`), or a service only started with a development profile, holds settings that would be faults in production; listed once per file with the IDs it would raise, not judged as production.',
    fix: 'Keep it out of production deployments (`docker compose -f compose.yaml` only).',
  },
  'files.container.privileged': {
    severity: 'error',
    trigger: 'A container runs `privileged: true` (compose, or a Kubernetes securityContext): root on the host.',
    fix: 'Remove `privileged`; grant the one capability it needs with `cap_add`, if any.',
  },
  'files.container.docker-socket': {
    severity: 'error',
    trigger:
      "A container mounts the container runtime's socket (`/var/run/docker.sock`, `/run/docker.sock`, containerd/podman/cri-o sockets, or `/var/run` itself; compose volume in short or long syntax, read-only or not, or Kubernetes hostPath): root on the host. Socket-proxy images (tecnativa/docker-socket-proxy) are exempt.",
    fix: 'Do not mount the Docker socket; use a socket proxy with a read-only allowlist if a tool really needs it.',
  },
  'files.container.host-namespace': {
    severity: 'error',
    trigger:
      'A container shares a host namespace: `pid: host`, `ipc: host`, `userns_mode: host`, `network_mode: host` on a service that is neither a datastore nor the backend (Kubernetes `hostPID`, `hostIPC`, `hostNetwork`).',
    fix: 'Remove the host namespace setting; containers keep their own.',
  },
  'files.container.capabilities': {
    severity: 'error',
    trigger:
      "A container adds `ALL` or an escape-grade capability (`SYS_ADMIN`, `SYS_PTRACE`, `SYS_MODULE`, `DAC_READ_SEARCH`, `SYS_RAWIO`, `SYS_BOOT`, `BPF`; not NET_ADMIN/NET_RAW, which act on the container's own network), or turns seccomp/AppArmor/SELinux off (`seccomp:unconfined`, `apparmor:unconfined`, `label:disable`; Kubernetes `Unconfined` profiles).",
    fix: 'Drop `cap_add` (or add only the narrow capability needed) and keep the default seccomp and AppArmor profiles.',
  },
  'files.django.debug': {
    severity: 'critical',
    trigger: 'A Django settings module sets `DEBUG = True`, or defaults it to on when the environment says nothing.',
    fix: "DEBUG = os.environ.get('DJANGO_DEBUG', '') == 'True' (off unless asked for), and never set it in production.",
  },
  'files.django.allowed-hosts': {
    severity: 'critical',
    trigger: "A Django settings module allows any host (`ALLOWED_HOSTS = ['*']`, or `*` as the environment's default).",
    fix: "ALLOWED_HOSTS = os.environ['DJANGO_ALLOWED_HOSTS'].split(',') with your exact domains.",
  },
  'files.django.cors-all': {
    severity: 'critical',
    trigger:
      'A Django settings module allows every CORS origin (`CORS_ALLOW_ALL_ORIGINS = True`, `CORS_ORIGIN_ALLOW_ALL = True`, a match-all origin regex).',
    fix: 'List exact origins in CORS_ALLOWED_ORIGINS, read from the environment.',
  },
  'files.django.secret-key': {
    severity: 'critical',
    trigger: "A Django settings module holds a literal `SECRET_KEY` (assigned, or as the environment's default).",
    fix: "SECRET_KEY = os.environ['DJANGO_SECRET_KEY'] (no default), and rotate the committed key.",
  },
  'files.django.database-password': {
    severity: 'critical',
    trigger:
      "A Django settings module holds a literal database password in `DATABASES` (or as the environment's default).",
    fix: "'PASSWORD': os.environ['POSTGRES_PASSWORD'] (no default), and rotate the committed password.",
  },
  'files.django.insecure-cookie': {
    severity: 'warning',
    trigger:
      'A production Django settings module turns off a transport protection: `SESSION_COOKIE_SECURE`, `CSRF_COOKIE_SECURE` or `SECURE_SSL_REDIRECT` set to False.',
    fix: 'Set them True in production settings (behind a TLS proxy, also SECURE_PROXY_SSL_HEADER).',
  },
  'files.node.cors-credentials': {
    severity: 'critical',
    trigger:
      "Node server code allows any origin with credentials: `origin: true`, `*`, a callback that accepts every origin, or the request's Origin echoed, together with `credentials: true` (Express cors, Fastify @fastify/cors, Nest enableCors).",
    fix: "List exact origins: cors({ origin: ['https://app.example.com'], credentials: true }).",
  },
  'files.node.secret-literal': {
    severity: 'critical',
    trigger:
      "Node server code passes a string literal as a session, cookie or JWT secret (`session({ secret: 'keyboard cat' })`, `jwt.sign(payload, 'secret')`).",
    fix: 'Read the secret from the environment (process.env.SESSION_SECRET) and rotate the committed one.',
  },
  'files.nginx.server-tokens': {
    severity: 'warning',
    trigger:
      'An nginx config sets `server_tokens on` (or `build`), or no nginx file of the repository sets `server_tokens off` at all (the default is on): every answer names nginx and its version.',
    fix: '`server_tokens off;` in the http block.',
  },
  'files.nginx.autoindex': {
    severity: 'error',
    trigger:
      'An nginx config turns `autoindex on` (outside a location closed by `internal` or `deny all`): directory listings reveal every file.',
    fix: 'Remove `autoindex on;`.',
  },
  'files.nginx.tls-legacy': {
    severity: 'error',
    trigger: '`ssl_protocols` in an nginx config enables SSLv2/SSLv3, TLS 1.0 or TLS 1.1.',
    fix: '`ssl_protocols TLSv1.2 TLSv1.3;`',
  },
  'files.nginx.root-exposes-repo': {
    severity: 'critical',
    trigger:
      "An nginx `root`/`alias` serves a directory that holds the checkout (its `.git`, `.env`, sources), put there by a compose bind mount, a Dockerfile `COPY` or a deploy script's clone, with no location refusing dotfiles.",
    fix: 'Serve only the build output (e.g. client/dist) and deny dotfiles: `location ~ /\\. { return 404; }`.',
  },
  'files.nginx.hsts-missing': {
    severity: 'warning',
    trigger:
      'An nginx server block that terminates TLS sends no `Strict-Transport-Security` (not in the server, its http block or an included snippet, or `location /` has add_header of its own, which drops the inherited ones), and the proxied application does not send it either.',
    fix: 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;',
  },
  'files.nginx.default-server': {
    severity: 'info',
    trigger:
      'An nginx config names its servers but has no catch-all `default_server`, so a request for an unknown host is answered by the first named server.',
    fix: 'Add `server { listen 443 ssl default_server; server_name _; return 444; }` (and the same on 80).',
  },
  'files.k8s.host-path': {
    severity: 'error',
    trigger:
      "A Kubernetes pod mounts a `hostPath` volume (any path; the container runtime's socket is `files.container.docker-socket`): the container reads, and unless `readOnly`, writes the node's own files, and the restricted Pod Security level refuses it.",
    fix: 'Use an emptyDir, a ConfigMap, a Secret or a PersistentVolumeClaim instead; a node agent that truly needs the host belongs in its own namespace, not beside the application.',
  },
  'files.k8s.not-restricted': {
    severity: 'warning',
    trigger:
      'A Kubernetes container lacks a setting of the restricted Pod Security level or a read-only root: `runAsNonRoot: true` (container or pod; or runs as uid 0), `allowPrivilegeEscalation: false`, `readOnlyRootFilesystem: true`, `capabilities.drop: [ALL]`, `seccompProfile: RuntimeDefault` (container or pod); or sets what the level refuses: `capabilities.add` of anything but NET_BIND_SERVICE, a `hostPort`, `procMount: Unmasked`, an SELinux type outside container_t/container_init_t/container_kvm_t/container_engine_t or any SELinux user or role, a sysctl outside the safe set. Init and ephemeral containers count. A kustomize patch is judged on what it sets (`runAsUser: 0`, `allowPrivilegeEscalation: true`, `readOnlyRootFilesystem: false`, a `drop:` list without ALL, ...; a JSON 6902 patch on what its `add`/`replace` operations write), not on what it leaves to its base. Development overlays are left out.',
    fix: "Set them in the container's securityContext (deploy/k8s/base/api-deployment.yaml is an example), give writable paths an emptyDir, and label the namespace `pod-security.kubernetes.io/enforce: restricted`.",
  },
  'files.k8s.secret-env': {
    severity: 'info',
    trigger:
      'A Kubernetes container takes a Secret as environment (`valueFrom.secretKeyRef`, `envFrom.secretRef`): the value then sits in the process environment, which child processes inherit, `/proc/<pid>/environ` shows and crash reports collect.',
    fix: 'Mount the Secret as a volume (readOnly, `defaultMode: 0440`) and point the application at the file (`SECRET_KEY_FILE=/run/secrets/...`).',
  },
  'files.k8s.no-network-policy': {
    severity: 'warning',
    trigger:
      'The checkout has Kubernetes workloads (outside development overlays, tests and docs) but no NetworkPolicy anywhere (nor a Cilium, Calico or AdminNetworkPolicy): every pod in the cluster can reach every one of them, the database included.',
    fix: 'Add a default-deny NetworkPolicy (`podSelector: {}`, `policyTypes: [Ingress, Egress]`) and one allow rule per connection the application needs (deploy/k8s/base/network-policies.yaml is an example).',
  },
  'files.k8s.network-policy-allows-all': {
    severity: 'warning',
    trigger:
      'A Kubernetes NetworkPolicy selects every pod of its namespace (`podSelector: {}`) and has a rule that allows everything: an ingress rule with neither `from` nor `ports` (`ingress: [{}]`), or an egress rule with neither `to` nor `ports` (`egress: [{}]`). Rules of all policies add up, so it undoes the default deny beside it. Development overlays, tests and docs are left out.',
    fix: 'Delete it, and allow each connection the application needs by its own rule: pods by label, and the ports they use.',
  },
  'files.k8s.no-default-deny': {
    severity: 'warning',
    trigger:
      "The checkout's Kubernetes NetworkPolicies only allow: in a namespace the workloads run in (the kustomization's `namespace:`, else the object's own), none selects every pod (`podSelector: {}`) with `policyTypes: [Ingress]` and no ingress rule, so a pod that no policy selects accepts connections from anywhere. A default deny in another namespace does not count.",
    fix: 'Add a default-deny NetworkPolicy (`podSelector: {}`, `policyTypes: [Ingress, Egress]`), then allow what is needed, DNS egress included.',
  },
  'files.k8s.trust-proxy-fenced': {
    severity: 'info',
    trigger:
      "A Kubernetes ConfigMap gives `TRUST_PROXY` a range (the pod CIDR, since proxy pods change address), and the NetworkPolicies of the workloads' namespace deny ingress by default and admit the server's `PORT` only from pods chosen by label (no policy of that namespace admits it from anywhere else): only those pods can connect, so only they are believed. Sound where the network plugin enforces NetworkPolicy.",
    fix: 'Nothing while the cluster enforces NetworkPolicy (Calico, Cilium, most managed clusters); on a plugin that does not, any pod could forge its client address.',
  },
  'files.k8s.not-audited': {
    severity: 'info',
    trigger:
      'A file that holds (or may hold) Kubernetes manifests could not be audited: over the 1 MiB size bound, not YAML (a Helm template that must be rendered first), or aliases that expand too far. Nothing in it is judged, so a clean report does not cover it. Tests and docs are left out.',
    fix: 'Audit the rendered manifests: `helm template … > rendered.yaml` or `kubectl kustomize … > rendered.yaml` in a scratch checkout, then `check --deploy --dir` on it; split a manifest over 1 MiB.',
  },
  'files.k8s.secret': {
    severity: 'critical',
    trigger: 'A committed Kubernetes `Secret` manifest holds real values in `data` (base64) or `stringData`.',
    fix: 'Do not commit Secrets: create them out of band, or commit them encrypted (Sealed Secrets, SOPS); rotate the values.',
  },
  'files.secret.test-credential': {
    severity: 'warning',
    trigger:
      'A tracked file holds a test-mode credential of a known service (`sk_test_…`, `rk_test_…`): not live, still a key.',
    fix: 'Read it from the environment like a live key.',
  },

  // --- Live deployment (--url) ---
  'live.unreachable': {
    severity: 'error',
    trigger: 'The URL could not be fetched at all (connection refused, TLS failure, timeout).',
    fix: 'Check the URL, --connect/--host, and --ca/--insecure for a private CA.',
  },
  'live.https-redirect': {
    severity: 'error',
    trigger: 'Plain HTTP does not redirect (301/302/307/308) to the https:// URL of the same host.',
    fix: 'In nginx: `server { listen 80; return 301 https://$host$request_uri; }`',
  },
  'live.no-https': {
    severity: 'error',
    trigger: 'The audited URL is plain http://, so nothing is encrypted.',
    fix: 'Serve the site over HTTPS (nginx with a certificate) and audit the https:// URL.',
  },
  'live.hsts.missing': {
    severity: 'error',
    trigger: 'The HTTPS answer has no valid `Strict-Transport-Security` header.',
    fix: 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;',
  },
  'live.hsts.short': {
    severity: 'warning',
    trigger: 'HSTS `max-age` is under one year (31536000).',
    fix: 'Use max-age=63072000 (two years).',
  },
  'live.hsts.recommended': {
    severity: 'info',
    trigger: 'HSTS is at least a year but lacks the recommended two years with includeSubDomains.',
    fix: 'Use max-age=63072000; includeSubDomains.',
  },
  'live.tls.legacy': {
    severity: 'error',
    trigger:
      'The server completes a TLS 1.0 or 1.1 handshake (the probe offers them even at OpenSSL security level 0).',
    fix: 'nginx: `ssl_protocols TLSv1.2 TLSv1.3;`',
  },
  'live.host.accepted': {
    severity: 'error',
    trigger: 'A request with an unknown Host header is answered normally (2xx/3xx) instead of refused.',
    fix: 'Make the default server refuse unknown names (nginx `return 444;` / 421) and keep ALLOWED_HOSTS exact.',
  },
  'live.cors.grant': {
    severity: 'critical',
    trigger: 'A CORS preflight or request from an unlisted origin receives `Access-Control-Allow-Origin`.',
    fix: 'Remove wildcard/echoing CORS from the proxy; list exact origins in CORS_ALLOWED_ORIGINS.',
  },
  'live.cors.credentials': {
    severity: 'critical',
    trigger: 'An unlisted origin receives `Access-Control-Allow-Credentials: true`.',
    fix: 'Never send Allow-Credentials to origins that are not listed.',
  },
  'live.404.not-json': {
    severity: 'warning',
    trigger: 'An unknown API path does not answer 404 with a JSON body.',
    fix: "Route unknown paths to the API's JSON 404 (or make the proxy answer JSON).",
  },
  'live.fingerprint': {
    severity: 'warning',
    trigger:
      'An error page names the software behind it (nginx, Express, Django, Fastify, Werkzeug, "Cannot GET", ...).',
    fix: "Give the proxy its own JSON error pages (error_page ... ) and keep the framework's defaults out.",
  },
  'live.server-version': {
    severity: 'warning',
    trigger: 'The `Server` header carries a version number (e.g. nginx/1.25.3).',
    fix: 'nginx: `server_tokens off;`',
  },
  'live.x-powered-by': {
    severity: 'warning',
    trigger: 'The answer carries an `X-Powered-By` header.',
    fix: 'Remove it (nginx: `proxy_hide_header X-Powered-By;`).',
  },
  'live.sensitive-file': {
    severity: 'critical',
    trigger: '`/.env`, `/.git/config` or `/.git/HEAD` is served with content that looks like the real file.',
    fix: 'Do not serve the repository: deny dotfiles in nginx (`location ~ /\\. { return 404; }`) and keep them out of the image.',
  },
  'live.error.stack': {
    severity: 'error',
    trigger: 'An error answer (malformed JSON, bad percent-encoding) carries a stack trace, file path or traceback.',
    fix: 'Turn DEBUG off; answer errors with a generic JSON body and log the detail server-side.',
  },
  'live.port.database': {
    severity: 'critical',
    trigger: "A PostgreSQL port (5432, 5433 by default) accepts TCP connections on the URL's host.",
    fix: 'Publish no database port (compose) and firewall it; the backend reaches the database on the private network.',
  },
  'live.port.backend': {
    severity: 'error',
    trigger: "The backend port (8000 by default) accepts TCP connections on the URL's host, bypassing the proxy.",
    fix: 'Publish no backend port; only the proxy listens publicly.',
  },
  'live.observatory': {
    severity: 'warning',
    trigger: 'The response headers score below 90 (grade below A) by the MDN HTTP Observatory scoring.',
    fix: 'Follow the score lines printed with the grade (CSP, HSTS, X-Frame-Options, ...).',
  },
} as const satisfies Record<string, CheckDefinition>;

export type CheckId = keyof typeof CHECKS;

export function areaOf(id: CheckId): Area {
  return id.split('.')[0] as Area;
}

export interface Finding {
  readonly id: CheckId;
  readonly area: Area;
  readonly severity: Severity;
  /** One line: what is wrong. Never contains a secret's value. */
  readonly message: string;
  /** One line: how to fix it. */
  readonly fix: string;
  /** A file (and line), a setting, or a URL; used for per-location silencing (`ID@location`). */
  readonly location?: string;
}

export function finding(id: CheckId, message: string, location?: string): Finding {
  const check: CheckDefinition = CHECKS[id];
  return {
    id,
    area: areaOf(id),
    severity: check.severity,
    message,
    fix: check.fix,
    ...(location === undefined ? {} : { location }),
  };
}
