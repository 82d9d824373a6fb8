/** The stale-build guard: a suite that runs a build refuses one older than its sources, and says what to do. */
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertFresh } from '../src/build.js';

function file(root: string, path: string, secondsAgo: number): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, '');
  const when = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(full, when, when);
}

/** A checkout with config and server sources and builds, the builds `buildAge` seconds old, sources 100 s old. */
function checkout(buildAge: { config: number; server: number }): string {
  const root = mkdtempSync(join(tmpdir(), 'ironclad-build-'));
  file(root, 'config/src/load.ts', 100);
  file(root, 'server/src/app.ts', 100);
  file(root, 'config/dist/load.js', buildAge.config);
  file(root, 'config/dist/.tsbuildinfo', buildAge.config);
  file(root, 'server/dist/main.js', buildAge.server);
  file(root, 'server/dist/.tsbuildinfo', buildAge.server);
  return root;
}

describe('assertFresh', () => {
  it('passes when every build is newer than its sources', () => {
    expect(() => assertFresh('server', checkout({ config: 10, server: 10 }))).not.toThrow();
  });

  it('refuses a build older than one of its sources, naming both and the fix', () => {
    const root = checkout({ config: 10, server: 10 });
    file(root, 'server/src/tasks/routes.ts', 1);
    expect(() => assertFresh('server', root)).toThrow(
      /server\/dist\/main\.js is older than server\/src\/tasks\/routes\.ts.*npm run build/,
    );
  });

  it('refuses a server whose config workspace build is stale (the server bundles it at run time)', () => {
    expect(() => assertFresh('server', checkout({ config: 200, server: 10 }))).toThrow(
      /config\/dist\/load\.js is older/,
    );
  });

  it('refuses a missing build', () => {
    const root = checkout({ config: 10, server: 10 });
    expect(() => assertFresh('audit', root)).toThrow(/audit\/dist\/cli\.js is missing: run `npm run build`/);
  });
});
