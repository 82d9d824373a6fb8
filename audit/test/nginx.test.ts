/**
 * nginx configuration checks (audit/src/files/nginx.ts) on real git repositories: every fault, and the clean but
 * tricky configurations a naive scanner would flag (this repository's own hardened nginx among them).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditFiles } from '../src/file-checks.js';
import { auditNginx } from '../src/files/nginx.js';
import { parseNginx } from '../src/files/nginx-parse.js';
import { git, makeRepo, removeTempDirs } from './fixtures.js';

afterAll(removeTempDirs);

function nginxFindings(files: Record<string, string>) {
  const dir = makeRepo([{ write: files }]);
  const listed = git(dir, 'ls-files', '-co', '--exclude-standard').split('\n').filter(Boolean);
  return auditNginx(dir, listed).map((f) => ({
    id: f.id,
    severity: f.severity,
    location: f.location,
    message: f.message,
  }));
}
const atLeastWarning = <T extends { severity: string }>(findings: T[]) => findings.filter((f) => f.severity !== 'info');
const lines = (...rows: string[]) => `${rows.join('\n')}\n`;

/** A hardened main configuration: what a careful repository has, the base of most cases below. */
const MAIN = lines(
  'user nginx;',
  'events { worker_connections 1024; }',
  'http {',
  '    include /etc/nginx/mime.types;',
  '    server_tokens off;',
  '    ssl_protocols TLSv1.2 TLSv1.3;',
  '    include /etc/nginx/conf.d/*.conf;',
  '}',
);

/** A hardened site: HTTP redirects, a catch-all, TLS with HSTS, dotfiles refused, the API proxied. */
const SITE = lines(
  'server {',
  '    listen 80 default_server;',
  '    server_name _;',
  '    return 444;',
  '}',
  'server {',
  '    listen 80;',
  '    server_name shop.example.com;',
  '    return 301 https://$host$request_uri;',
  '}',
  'server {',
  '    listen 443 ssl default_server;',
  '    http2 on;',
  '    server_name shop.example.com;',
  '    ssl_certificate /etc/letsencrypt/live/shop.example.com/fullchain.pem;',
  '    ssl_certificate_key /etc/letsencrypt/live/shop.example.com/privkey.pem;',
  '    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;',
  "    add_header Content-Security-Policy \"default-src 'self'; frame-ancestors 'none'\" always;",
  '    root /usr/share/nginx/html;',
  '    location ~ /\\. { deny all; }',
  '    location /api/ { proxy_pass http://backend:8000; }',
  '    location / { try_files $uri /index.html; }',
  '}',
);

const NGINX_COMPOSE = lines(
  'services:',
  '  web:',
  '    image: nginx:1.27-alpine',
  '    ports: ["80:80", "443:443"]',
  '    volumes:',
  '      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro',
  '      - ./nginx/conf.d:/etc/nginx/conf.d:ro',
);

describe('nginx parser', () => {
  it('reads blocks, quotes, comments and envsubst placeholders', () => {
    const tree = parseNginx(
      lines(
        '# autoindex on;',
        'server { # a comment { ;',
        `    listen \${HTTPS_PORT} ssl;`,
        '    add_header X-Test "a;b # c {d}" always;',
        "    return 200 'it''s';",
        '    location ~* \\.(js|css)$ { expires 1y; }',
        '}',
      ),
      'site.conf',
    );
    expect(tree).toHaveLength(1);
    const server = tree[0];
    expect(server?.name).toBe('server');
    expect(server?.block?.map((d) => d.name)).toEqual(['listen', 'add_header', 'return', 'location']);
    expect(server?.block?.[0]?.args).toEqual([`\${HTTPS_PORT}`, 'ssl']);
    expect(server?.block?.[1]?.args).toEqual(['X-Test', 'a;b # c {d}', 'always']);
    expect(server?.block?.[3]?.line).toBe(6);
    expect(server?.block?.[3]?.args).toEqual(['~*', '\\.(js|css)$']);
  });

  it('survives broken input (unclosed blocks, stray braces, an unclosed quote)', () => {
    expect(() => parseNginx('}}} server { location / { root "/x', 'x.conf')).not.toThrow();
    expect(parseNginx('}}} server { listen 80;', 'x.conf')[0]?.block?.[0]?.name).toBe('listen');
  });
});

describe('nginx: faults', () => {
  it('server_tokens on, written explicitly (warning, at its line)', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN,
      'nginx/conf.d/site.conf': SITE.replace('    http2 on;\n', '    http2 on;\n    server_tokens on;\n'),
    });
    expect(found.map((f) => `${f.id} ${f.severity} ${f.location}`)).toEqual([
      'files.nginx.server-tokens warning nginx/conf.d/site.conf:14',
    ]);
  });

  it('a complete nginx.conf that never sets server_tokens off, with sites that do not either', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN.replace('    server_tokens off;\n', ''),
      'nginx/conf.d/site.conf': SITE,
      'docker-compose.yml': NGINX_COMPOSE,
    });
    expect(atLeastWarning(found).map((f) => `${f.id} ${f.location}`)).toEqual([
      'files.nginx.server-tokens nginx/nginx.conf:3',
    ]);
  });

  it('a conf.d site only (the image keeps its stock nginx.conf, server_tokens on by default)', () => {
    const found = nginxFindings({
      'nginx/default.conf': SITE,
      'docker-compose.yml': lines(
        'services:',
        '  proxy:',
        '    image: nginx:1.27',
        '    volumes:',
        '      - ./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro',
      ),
    });
    // At the first server that answers something (a redirect carries the Server header; `return 444` answers nothing).
    expect(atLeastWarning(found).map((f) => `${f.id} ${f.location}`)).toEqual([
      'files.nginx.server-tokens nginx/default.conf:6',
    ]);
  });

  it('autoindex on (error), but not autoindex off, a commented one, or autoindex_exact_size', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN,
      'nginx/conf.d/site.conf': SITE.replace(
        '    location / {',
        '    location /downloads/ { autoindex on; }\n    # autoindex on;\n    autoindex_exact_size on;\n    location / {',
      ),
    });
    expect(found.map((f) => `${f.id} ${f.severity} ${f.location}`)).toEqual([
      'files.nginx.autoindex error nginx/conf.d/site.conf:22',
    ]);
    expect(found[0]?.message).toContain('location /downloads/');
  });

  it('ssl_protocols with TLS 1.0/1.1 or SSLv3 (error), in http or in a server', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN.replace('TLSv1.2 TLSv1.3', 'TLSv1 TLSv1.1 TLSv1.2'),
      'nginx/conf.d/site.conf': SITE.replace('    http2 on;\n', '    ssl_protocols SSLv3 TLSv1.2;\n'),
    });
    expect(found.map((f) => `${f.id} ${f.severity} ${f.location}`)).toEqual([
      'files.nginx.tls-legacy error nginx/conf.d/site.conf:13',
      'files.nginx.tls-legacy error nginx/nginx.conf:6',
    ]);
    expect(found[1]?.message).toContain('TLSv1, TLSv1.1');
  });

  const noDotfileRule = SITE.replace('    location ~ /\\. { deny all; }\n', '');

  it('root serving the checkout: compose mounts the repository at the root nginx serves (critical)', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN,
      'nginx/conf.d/site.conf': noDotfileRule,
      '.env.example': 'SECRET_KEY=\n',
      'app/settings.py': 'DEBUG = False\n',
      'docker-compose.yml': `${NGINX_COMPOSE}      - ./:/usr/share/nginx/html:ro\n`,
    });
    expect(found.map((f) => `${f.id} ${f.severity} ${f.location}`)).toEqual([
      'files.nginx.root-exposes-repo critical nginx/conf.d/site.conf:19',
    ]);
    expect(found[0]?.message).toContain(
      'serves /usr/share/nginx/html, which holds the repository (docker-compose.yml:8)',
    );
  });

  it('root serving the checkout: the nginx image copies the build context (COPY . with WORKDIR)', () => {
    const found = nginxFindings({
      'nginx/default.conf': lines(
        'server_tokens off;',
        'server {',
        '    listen 80 default_server;',
        '    root /app;',
        '    location / { try_files $uri $uri/ =404; }',
        '}',
      ),
      Dockerfile: lines(
        'FROM nginx:1.27-alpine',
        'WORKDIR /app',
        'COPY nginx/default.conf /etc/nginx/conf.d/default.conf',
        'COPY . .',
      ),
      '.dockerignore': '.git\n.env\n',
      'server.js': "require('http').createServer().listen(3000);\n",
      'package.json': '{"name":"shop"}\n',
    });
    expect(found.map((f) => `${f.id} ${f.location}`)).toEqual(['files.nginx.root-exposes-repo nginx/default.conf:4']);
    expect(found[0]?.message).toContain('Dockerfile:4');
  });

  it('root serving the checkout: a build stage with the whole repository copied into the nginx stage', () => {
    const found = nginxFindings({
      'nginx.conf': lines(
        'events {}',
        'http {',
        '  server_tokens off;',
        '  server { listen 80 default_server; root /usr/share/nginx/html; index index.html; }',
        '}',
      ),
      Dockerfile: lines(
        'FROM node:20-alpine AS build',
        'WORKDIR /app',
        'COPY . .',
        'RUN npm ci && npm run build',
        'FROM nginx:1.27-alpine',
        'COPY nginx.conf /etc/nginx/nginx.conf',
        'COPY --from=build /app /usr/share/nginx/html',
      ),
      '.dockerignore': 'node_modules\n',
      'package.json': '{"name":"shop"}\n',
      'src/main.ts': 'export {};\n',
    });
    expect(found.map((f) => `${f.id} ${f.location}`)).toEqual(['files.nginx.root-exposes-repo nginx.conf:4']);
  });

  it('root serving the checkout: the stock default site of an nginx service that mounts the repository', () => {
    const found = nginxFindings({
      'docker-compose.yml': lines(
        'services:',
        '  web:',
        '    image: nginx:latest',
        '    volumes:',
        '      - .:/usr/share/nginx/html',
      ),
      'index.html': '<h1>hi</h1>\n',
      'deploy.sh': 'docker compose up -d\n',
    });
    expect(found.map((f) => `${f.id} ${f.location}`)).toEqual(['files.nginx.root-exposes-repo docker-compose.yml:5']);
  });

  it('root serving the checkout: the directory the deploy script clones it into', () => {
    const found = nginxFindings({
      'deploy/nginx/shop.conf': lines(
        'server {',
        '    listen 80 default_server;',
        '    server_tokens off;',
        '    root /srv/shop;',
        '    location /api/ { proxy_pass http://127.0.0.1:8000; }',
        '}',
      ),
      'deploy/deploy.sh': lines('set -e', 'git clone https://github.com/acme/shop.git /srv/shop', 'cd /srv/shop'),
      'manage.py': 'import django\n',
    });
    expect(found.map((f) => `${f.id} ${f.location}`)).toEqual([
      'files.nginx.root-exposes-repo deploy/nginx/shop.conf:4',
    ]);
    expect(found[0]?.message).toContain('deploy/deploy.sh:2');
  });

  it('root serving the checkout: Django behind try_files $uri @django, the project mounted read-only into nginx', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': lines(
        'upstream django { server web:8000; }',
        'server {',
        '    listen 80 default_server;',
        '    server_name example.com;',
        '    server_tokens off;',
        '    root /usr/src/app;',
        '    location / { try_files $uri @django; }',
        '    location @django { proxy_pass http://django; }',
        '}',
      ),
      'docker-compose.yml': lines(
        'services:',
        '  web:',
        '    build: .',
        '    env_file: .env',
        '  nginx:',
        '    image: nginx:1.25-alpine',
        '    ports: ["80:80"]',
        '    volumes:',
        '      - ./nginx/nginx.conf:/etc/nginx/conf.d/default.conf:ro',
        '      - .:/usr/src/app:ro',
      ),
      'mysite/settings.py': 'DEBUG = False\n',
      '.gitignore': '.env\n',
    });
    expect(found.map((f) => `${f.id} ${f.location}`)).toEqual(['files.nginx.root-exposes-repo nginx/nginx.conf:6']);
    expect(found[0]?.message).toContain('docker-compose.yml:10');
  });

  it('root serving the checkout: a home-directory clone, and a pull after cd on an earlier line', () => {
    const site = (root: string) =>
      lines('server {', '    listen 80 default_server;', '    server_tokens off;', `    root ${root};`, '}');
    const home = nginxFindings({
      'nginx/site.conf': site('/home/ubuntu/shop'),
      'README.md': lines('```sh', 'git clone --depth 1 -b main https://github.com/acme/shop.git ~/shop', '```'),
      'shop/settings.py': 'DEBUG = False\n',
    });
    expect(home.map((f) => `${f.id} ${f.location}`)).toEqual(['files.nginx.root-exposes-repo nginx/site.conf:4']);
    const pulled = nginxFindings({
      'nginx/site.conf': site('/var/www/shop'),
      'scripts/deploy.sh': lines('#!/bin/sh', 'set -e', 'cd /var/www/shop', 'git pull --ff-only', 'npm ci'),
      'package.json': '{"name":"shop"}\n',
    });
    expect(pulled.map((f) => `${f.id} ${f.location}`)).toEqual(['files.nginx.root-exposes-repo nginx/site.conf:4']);
    expect(pulled[0]?.message).toContain('scripts/deploy.sh:4');
    const unit = nginxFindings({
      'nginx/site.conf': site('/srv/shop'),
      'deploy/shop.service': lines('[Service]', 'User=shop', 'ExecStart=/srv/shop/venv/bin/gunicorn shop.wsgi'),
      'shop/wsgi.py': 'import os\n',
    });
    expect(unit.map((f) => `${f.id} ${f.location}`)).toEqual(['files.nginx.root-exposes-repo nginx/site.conf:4']);
  });

  it('a TLS server without Strict-Transport-Security, in it or its http block (warning)', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN,
      'nginx/conf.d/site.conf': SITE.replace(
        '    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;\n',
        '',
      ),
    });
    expect(found.map((f) => `${f.id} ${f.severity} ${f.location}`)).toEqual([
      'files.nginx.hsts-missing warning nginx/conf.d/site.conf:11',
    ]);
  });

  it('HSTS dropped for / by a location with add_header of its own (nginx inherits none then)', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN,
      'nginx/conf.d/site.conf': SITE.replace(
        '    location / { try_files',
        '    location / {\n        add_header Cache-Control "no-cache";\n        try_files',
      ),
    });
    expect(found.map((f) => `${f.id} ${f.location}`)).toEqual(['files.nginx.hsts-missing nginx/conf.d/site.conf:22']);
    expect(found[0]?.message).toContain('add_header of its own');
  });

  it('named servers with no default_server on their port (info)', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN,
      'nginx/conf.d/site.conf': SITE.replace('listen 443 ssl default_server;', 'listen 443 ssl;'),
    });
    expect(found.map((f) => `${f.id} ${f.severity} ${f.location}`)).toEqual([
      'files.nginx.default-server info nginx/conf.d/site.conf:11',
    ]);
  });
});

describe('nginx: clean but tricky', () => {
  it("this repository's own nginx (templates rendered into conf.d, includes, envsubst placeholders): no finding", () => {
    const root = resolve(import.meta.dirname, '../..');
    const files = execFileSync('git', ['-C', root, 'ls-files', '-co', '--exclude-standard'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const started = performance.now();
    expect(auditNginx(root, files)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('the hardened base: server_tokens off in nginx.conf with the sites in conf.d, TLS 1.2+, HSTS, dotfiles refused', () => {
    expect(
      nginxFindings({ 'nginx/nginx.conf': MAIN, 'nginx/conf.d/site.conf': SITE, 'docker-compose.yml': NGINX_COMPOSE }),
    ).toEqual([]);
  });

  it('server_tokens off written in one server only (the stock nginx.conf around it is not in the repository)', () => {
    const found = nginxFindings({
      'nginx/default.conf': SITE.replace('    http2 on;\n', '    http2 on;\n    server_tokens off;\n'),
      'docker-compose.yml': lines(
        'services:',
        '  proxy:',
        '    image: nginx:1.27',
        '    volumes: ["./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro"]',
      ),
    });
    expect(found).toEqual([]);
  });

  it('a root at /usr/share/nginx/html with only the client build copied in, no dotfile rule needed', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN,
      'nginx/conf.d/site.conf': SITE.replace('    location ~ /\\. { deny all; }\n', ''),
      'client/Dockerfile': lines(
        'FROM node:20-alpine AS build',
        'WORKDIR /app',
        'COPY . .',
        'RUN npm ci && npm run build',
        'FROM nginx:1.27-alpine',
        'COPY nginx/nginx.conf /etc/nginx/nginx.conf',
        'COPY nginx/conf.d/ /etc/nginx/conf.d/',
        'COPY --from=build /app/dist /usr/share/nginx/html',
      ),
      'client/package.json': '{"name":"client"}\n',
      'client/src/main.ts': 'export {};\n',
      'docker-compose.yml': lines(
        'services:',
        '  web:',
        '    build:',
        '      context: .',
        '      dockerfile: client/Dockerfile',
      ),
    });
    expect(found).toEqual([]);
  });

  it('a TLS-less server behind a load balancer, and a TLS server that only redirects: no HSTS finding', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN,
      'nginx/conf.d/site.conf': lines(
        'server {',
        '    listen 8080 default_server;',
        '    server_name shop.example.com;',
        '    set_real_ip_from 10.0.0.0/8;',
        '    location / { proxy_pass http://app:3000; }',
        '}',
        'server {',
        '    listen 443 ssl default_server;',
        '    server_name www.shop.example.com;',
        '    ssl_certificate /etc/ssl/shop.pem;',
        '    ssl_certificate_key /etc/ssl/shop.key;',
        '    return 301 https://shop.example.com$request_uri;',
        '}',
      ),
    });
    expect(found).toEqual([]);
  });

  it('HSTS from an included snippet, from the http block, or repeated in location /', () => {
    const tlsSite = (extra: string) =>
      lines(
        'server {',
        '    listen 443 ssl http2 default_server;',
        '    server_name shop.example.com;',
        '    include snippets/ssl-params.conf;',
        '    root /var/www/shop/public;',
        `    location / { ${extra} try_files $uri =404; }`,
        '}',
      );
    const snippet = lines(
      'ssl_protocols TLSv1.2 TLSv1.3;',
      'add_header Strict-Transport-Security "max-age=63072000" always;',
      'add_header X-Frame-Options DENY;',
    );
    expect(
      nginxFindings({
        'nginx/nginx.conf': MAIN,
        'nginx/sites-available/shop': tlsSite(''),
        'nginx/snippets/ssl-params.conf': snippet,
      }),
    ).toEqual([]);
    expect(
      nginxFindings({
        'nginx/nginx.conf': MAIN.replace(
          '    server_tokens off;',
          '    server_tokens off;\n    add_header Strict-Transport-Security "max-age=31536000" always;',
        ),
        'nginx/conf.d/shop.conf': tlsSite('').replace('    include snippets/ssl-params.conf;\n', ''),
      }),
    ).toEqual([]);
    expect(
      nginxFindings({
        'nginx/nginx.conf': MAIN,
        'nginx/sites-available/shop': tlsSite(
          'add_header Cache-Control no-cache; add_header Strict-Transport-Security "max-age=63072000" always;',
        ),
        'nginx/snippets/ssl-params.conf': snippet,
      }),
    ).toEqual([]);
  });

  it('a Django app that sends HSTS itself behind a TLS proxy', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN,
      'nginx/conf.d/app.conf': lines(
        'server {',
        '    listen 443 ssl default_server;',
        '    server_name app.example.com;',
        '    location /static/ { alias /app/staticfiles/; }',
        '    location / { proxy_pass http://web:8000; proxy_set_header X-Forwarded-Proto $scheme; }',
        '}',
      ),
      'app/settings.py': "SECURE_HSTS_SECONDS = int(os.environ.get('SECURE_HSTS_SECONDS', '31536000'))\n",
      'docker-compose.yml': `${NGINX_COMPOSE}      - ./app:/app\n`,
    });
    expect(found).toEqual([]);
  });

  it('a repository root served with dotfiles refused; test fixtures and development files not judged', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN,
      'nginx/conf.d/site.conf': SITE,
      'docker-compose.yml': `${NGINX_COMPOSE}      - ./:/usr/share/nginx/html:ro\n`,
      'tests/fixtures/nginx/bad.conf': lines(
        'server { listen 443 ssl; server_tokens on; autoindex on; ssl_protocols TLSv1; root /; }',
      ),
      'nginx/dev.conf': lines('server { listen 8080; server_name localhost; root /app; }'),
      'docker-compose.dev.yml': lines('services:', '  web:', '    image: nginx', '    volumes: ["./:/app"]'),
    });
    expect(found).toEqual([]);
  });

  it('the repository mounted in nginx, but only directories and file types that are not sources served', () => {
    const found = nginxFindings({
      'nginx/nginx.conf': MAIN,
      'nginx/conf.d/app.conf': lines(
        'server {',
        '    listen 80 default_server;',
        '    root /app;',
        '    location ~ ^/(static|media)/ { expires 30d; }',
        '    location ~* \\.(css|js|png|svg)$ { expires 1y; }',
        '    location ~ /\\.ht { deny all; }',
        '    location = /robots.txt { alias /app/static/robots.txt; }',
        '    location / { proxy_pass http://web:8000; }',
        '}',
      ),
      'static/app.css': 'body {}\n',
      'app/settings.py': 'DEBUG = False\n',
      'manage.py': 'import django\n',
      'docker-compose.yml': `${NGINX_COMPOSE}      - ./:/app:ro\n`,
    });
    expect(found).toEqual([]);
  });

  it('stays bounded on includes that include each other and themselves', () => {
    const files: Record<string, string> = { 'nginx/nginx.conf': MAIN };
    for (let i = 0; i < 12; i += 1) {
      files[`nginx/conf.d/site${i}.conf`] = lines(
        'include /etc/nginx/conf.d/*.conf;',
        `server { listen 80; server_name s${i}.example.com; server_tokens off; location / { root /srv/s${i}; } }`,
      );
    }
    const started = performance.now();
    const found = nginxFindings(files);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(atLeastWarning(found)).toEqual([]);
  });

  it('is wired into auditFiles', async () => {
    const dir = makeRepo([
      { write: { 'nginx/default.conf': lines('server { listen 80 default_server; autoindex on; }') } },
    ]);
    const ids = (await auditFiles(dir, { history: false })).findings.map((f) => f.id);
    expect(ids).toContain('files.nginx.autoindex');
  });
});
