/**
 * Audits the configuration the server would start with. It runs the server's own loader (same `.env`,
 * `*_FILE` secrets and defaults) in its non-refusing form, and judges the values with the same
 * functions the loader uses (secretKeyWeakness, isPlaceholderPassword, originProblem), so there is one
 * definition of "weak". Everything is judged as production: that is what `--deploy` means.
 */

import { SECURITY_HEADERS } from '@ironclad/config/headers';
import { type Config, inspectConfig, type LoadOptions } from '@ironclad/config/load';
import { isLocalOrigin, originProblem } from '@ironclad/config/origins';
import { settingNames, settings } from '@ironclad/config/schema';
import { isPlaceholderPassword, secretKeyWeakness } from '@ironclad/config/secrets';
import type { Setting } from '@ironclad/config/types';
import { type Finding, finding } from './findings.js';

const ONE_YEAR = 31_536_000;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export interface ConfigAudit {
  findings: Finding[];
  /** Every secret value the configuration holds, so the report can prove none is printed. */
  secretValues: string[];
}

/** Secret values as the schema marks them (iterated, not listed), plus the password inside DATABASE_URL. */
function collectSecrets(config: Config): string[] {
  const values: string[] = [];
  for (const name of settingNames) {
    const definition: Setting<unknown> = settings[name];
    if (!definition.secret) continue;
    const value = config.values[name] as unknown;
    if (typeof value === 'string') values.push(value);
    else if (Array.isArray(value)) values.push(...value.filter((v): v is string => typeof v === 'string'));
  }
  const url = config.values.DATABASE_URL;
  if (url) {
    try {
      const password = decodeURIComponent(new URL(url).password);
      if (password) values.push(password);
    } catch {
      // A malformed URL is reported by the loader; the whole value is already in the list.
    }
  }
  return values.filter((value) => value.length > 0);
}

function databaseCredentials(config: Config): { user?: string; password?: string } {
  const db = config.database;
  if (db.kind !== 'postgres') return {};
  if (db.connectionString) {
    try {
      const url = new URL(db.connectionString);
      return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    } catch {
      return {};
    }
  }
  return { user: db.user, password: db.password };
}

export function auditConfig(options: LoadOptions): ConfigAudit {
  const { config, problems } = inspectConfig(options);
  const v = config.values;
  const findings: Finding[] = [];

  if (config.debug) findings.push(finding('config.debug', 'DEBUG is on', 'DEBUG'));

  if (v.SECRET_KEY !== undefined) {
    const weakness = secretKeyWeakness(v.SECRET_KEY);
    if (weakness) findings.push(finding('config.secret-key.weak', `SECRET_KEY ${weakness}`, 'SECRET_KEY'));
  }
  (v.SECRET_KEY_FALLBACKS ?? []).forEach((key, index) => {
    const weakness = secretKeyWeakness(key);
    if (weakness) {
      findings.push(
        finding(
          'config.secret-key-fallback.weak',
          `SECRET_KEY_FALLBACKS entry ${index + 1} ${weakness}`,
          'SECRET_KEY_FALLBACKS',
        ),
      );
    } else if (key === v.SECRET_KEY) {
      findings.push(
        finding(
          'config.secret-key-fallback.same-as-key',
          `SECRET_KEY_FALLBACKS entry ${index + 1} is the current SECRET_KEY`,
          'SECRET_KEY_FALLBACKS',
        ),
      );
    }
  });

  const hosts = v.ALLOWED_HOSTS ?? [];
  if (hosts.includes('*')) {
    findings.push(finding('config.allowed-hosts.wildcard', 'ALLOWED_HOSTS contains "*"', 'ALLOWED_HOSTS'));
  } else if (hosts.length === 0) {
    findings.push(finding('config.allowed-hosts.empty', 'ALLOWED_HOSTS lists no host', 'ALLOWED_HOSTS'));
  } else if (hosts.every((host) => LOCAL_HOSTS.has(host.toLowerCase()))) {
    findings.push(
      finding('config.allowed-hosts.local-only', 'ALLOWED_HOSTS names only loopback hosts', 'ALLOWED_HOSTS'),
    );
  }

  for (const origin of v.CORS_ALLOWED_ORIGINS ?? []) {
    const where = 'CORS_ALLOWED_ORIGINS';
    if (origin === '*') findings.push(finding('config.cors.wildcard', 'CORS_ALLOWED_ORIGINS contains "*"', where));
    else if (origin.toLowerCase() === 'null') {
      findings.push(finding('config.cors.null', 'CORS_ALLOWED_ORIGINS contains "null"', where));
    } else if (originProblem(origin)) {
      findings.push(finding('config.cors.malformed', `CORS_ALLOWED_ORIGINS: ${originProblem(origin)}`, where));
    } else if (isLocalOrigin(origin)) {
      findings.push(finding('config.cors.local-origin', `CORS_ALLOWED_ORIGINS allows "${origin}"`, where));
    } else if (origin.startsWith('http:')) {
      findings.push(
        finding('config.cors.insecure-origin', `CORS_ALLOWED_ORIGINS allows "${origin}" (not HTTPS)`, where),
      );
    }
  }

  // The API itself speaks plain HTTP; HTTPS always ends at a proxy. Without TRUST_PROXY the server
  // cannot see X-Forwarded-Proto, so session-cookie.ts never marks the cookie Secure.
  const trust = v.TRUST_PROXY;
  if (trust === false) {
    findings.push(
      finding(
        'config.cookies.not-secure',
        'TRUST_PROXY is off, so behind an HTTPS proxy the session cookie would be sent without Secure',
        'TRUST_PROXY',
      ),
    );
  } else if (trust === true || typeof trust === 'number') {
    findings.push(
      finding(
        'config.trust-proxy.any',
        `TRUST_PROXY is ${trust === true ? 'true' : `a hop count (${trust})`}, not a proxy address`,
        'TRUST_PROXY',
      ),
    );
  }

  const hsts = SECURITY_HEADERS['strict-transport-security'];
  const maxAge = Number(/max-age=(\d+)/i.exec(hsts ?? '')?.[1] ?? 0);
  if (maxAge < ONE_YEAR) {
    findings.push(
      finding('config.hsts.weak', `the API sends ${hsts ? `HSTS with max-age=${maxAge}` : 'no HSTS header'}`, 'HSTS'),
    );
  }

  if (config.database.kind === 'embedded') {
    findings.push(
      finding('config.database.embedded', 'no PostgreSQL configured: the embedded database would be used', 'DATABASE'),
    );
  } else {
    const { user, password } = databaseCredentials(config);
    if (!password) {
      findings.push(finding('config.database.password-empty', 'the database password is not set', 'POSTGRES_PASSWORD'));
    } else if (isPlaceholderPassword(password)) {
      findings.push(
        finding(
          'config.database.password-placeholder',
          'the database password is a known placeholder',
          'POSTGRES_PASSWORD',
        ),
      );
    } else if (user && password === user) {
      findings.push(
        finding(
          'config.database.password-equals-user',
          'the database password equals the user name',
          'POSTGRES_PASSWORD',
        ),
      );
    }
  }

  // The loader's refusals, except where a specific finding above already names that setting.
  // Its messages never carry a secret's value (load.ts promises that and its tests check it).
  const named = new Set(findings.map((f) => f.location));
  for (const problem of problems) {
    const setting = /^([A-Z0-9_]+)/.exec(problem)?.[1] ?? '';
    if (named.has(setting)) continue;
    findings.push(finding('config.refused', `the server would refuse to start: ${problem}`, setting || undefined));
  }

  return { findings, secretValues: collectSecrets(config) };
}
