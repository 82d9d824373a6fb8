/**
 * One Node story: every workspace promises the same Node versions, and every package the lockfile installs runs on
 * the oldest of them, so `npm ci` is clean (no EBADENGINE) on the Node 20 the project promises. The images use the
 * current LTS (server/Dockerfile, client/Dockerfile), which is newer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '@ironclad/testkit/gate';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const manifest = (path: string) =>
  JSON.parse(readFileSync(join(REPO, path), 'utf8')) as { engines?: { node?: string } };
const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
};

describe('Node engines', () => {
  const promised = manifest('package.json').engines?.node as string;
  const oldest = semver.minVersion(promised)?.version as string;

  it('every workspace promises what the root promises', () => {
    for (const workspace of ['config', 'server', 'audit', 'testkit', 'client']) {
      expect(manifest(`${workspace}/package.json`).engines?.node, workspace).toBe(promised);
    }
    expect(oldest).toMatch(/^20\./);
  });

  it(`every installed package supports the oldest promised Node`, () => {
    const unsupported = Object.entries(lock.packages)
      .filter(([key, entry]) => key !== '' && entry.engines && !Array.isArray(entry.engines) && entry.engines.node)
      .filter(([, entry]) => {
        const range = (entry.engines as { node: string }).node;
        return !semver.satisfies(oldest, range, { includePrerelease: true });
      })
      .map(([key, entry]) => `${key} wants node ${(entry.engines as { node: string }).node}`);
    expect(unsupported).toEqual([]);
  });

  it('the images run the current LTS, at least the promised version', () => {
    for (const dockerfile of ['server/Dockerfile', 'client/Dockerfile']) {
      const major = /FROM node:(\d+)/.exec(readFileSync(join(REPO, dockerfile), 'utf8'))?.[1];
      expect(Number(major), dockerfile).toBeGreaterThanOrEqual(semver.major(oldest));
    }
  });
});
