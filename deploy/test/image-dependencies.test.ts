/**
 * What the API image installs: server/Dockerfile runs `npm ci --omit=dev --workspace server`, so the image holds the
 * production dependency closure of @ironclad/server (and of @ironclad/config, which it imports), as package-lock.json
 * resolves it. Computed here from the lockfile the way npm resolves it (nearest node_modules upwards), so a
 * dependency that only the auditor or the tests need can never slip into the image unnoticed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '@ironclad/testkit/gate';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  version?: string;
  link?: boolean;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};

/** The lockfile key a dependency `name` of the package at `from` resolves to (npm's nearest node_modules rule). */
function resolveFrom(from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut >= 0 ? base.slice(0, cut) : '';
  }
}

/** Every installed package (lockfile key) that `npm ci --omit=dev --workspace <workspace>` puts on disk. */
function productionClosure(workspace: string): Set<string> {
  const seen = new Set<string>();
  const queue = [workspace];
  while (queue.length > 0) {
    const key = queue.pop() as string;
    const entry = lock.packages[key];
    if (!entry) continue;
    const target = entry.link && entry.resolved ? entry.resolved : key;
    const real = lock.packages[target] ?? entry;
    const names = [
      ...Object.keys(real.dependencies ?? {}),
      ...Object.keys(real.optionalDependencies ?? {}),
      ...Object.keys(real.peerDependencies ?? {}).filter((name) => !real.peerDependenciesMeta?.[name]?.optional),
    ];
    for (const name of names) {
      const resolved = resolveFrom(target, name);
      if (resolved && !seen.has(resolved)) {
        seen.add(resolved);
        queue.push(resolved);
      }
    }
  }
  return seen;
}

const packageName = (key: string) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('the API image’s production dependencies', () => {
  const closure = productionClosure('server');
  const names = new Set([...closure].map(packageName));

  it('hold nothing that only the auditor, the tests, the client or the build use', () => {
    const foreign = [...names].filter((name) =>
      /^(@ironclad\/(audit|testkit|client)|secretlint|@secretlint\/.*|vitest|vite|playwright-core|typescript|tsx|drizzle-kit|@biomejs\/.*|react|react-dom|fast-check)$/.test(
        name,
      ),
    );
    expect(foreign).toEqual([]);
    expect(names).toContain('@ironclad/config');
    expect(names).toContain('fastify');
  });

  it('stay few: a bound that catches a heavy dependency added by accident (116 in the lockfile when this was written, 109 of them installed on linux-x64; 203 installed before the auditor left)', () => {
    process.stdout.write(`API image: ${closure.size} production packages\n`);
    expect(closure.size).toBeLessThan(140);
  });
});

/** Bare module specifiers imported by a workspace's production sources (static and dynamic imports). */
function importedPackages(workspace: string): Set<string> {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name)) {
        const text = readFileSync(path, 'utf8');
        const statics = text.matchAll(/^\s*(?:import|export)\s[^;]*?\bfrom\s+'([^']+)'/gm);
        const dynamics = text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g);
        for (const match of [...statics, ...dynamics]) {
          const specifier = match[1] as string;
          if (specifier.startsWith('.')) continue;
          if (specifier.startsWith('node:')) continue;
          const parts = specifier.split('/');
          found.add(specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string));
        }
      }
    }
  };
  walk(join(REPO, workspace, 'src'));
  return found;
}

describe.each(['config', 'server', 'audit'])('%s/package.json', (workspace) => {
  const manifest = JSON.parse(readFileSync(join(REPO, workspace, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const declared = Object.keys(manifest.dependencies ?? {});
  const imported = importedPackages(workspace);
  // Loaded by name at run time rather than imported: secretlint resolves its rule preset from a string.
  const loadedByName = new Set(['@secretlint/secretlint-rule-preset-recommend']);

  it('declares every package its sources import', () => {
    expect([...imported].filter((name) => !declared.includes(name))).toEqual([]);
  });

  it('declares nothing its sources do not use', () => {
    expect(declared.filter((name) => !imported.has(name) && !loadedByName.has(name))).toEqual([]);
  });
});
