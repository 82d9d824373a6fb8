/**
 * A new embedded database is unpacked from server/dist/pglite-template.tar.gz (made by the build:
 * scripts/pglite-template.mjs runs PGlite's initdb and the migrations once) instead of running initdb in the server.
 *
 * Why: initdb inside the server starts a second PostgreSQL and moves the files through WebAssembly memory, and a
 * WebAssembly heap never shrinks: the first start peaked at ~790 MB RSS and kept ~490 MB. PGlite's own `loadDataDir`
 * still unpacks through its heap (~100 MB kept). Here the archive is unpacked with node:zlib into plain files before
 * PGlite starts; the ~45 MB buffer is freed before the heaps exist, so PGlite opens it like any existing database.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** Resolves to server/dist/ from both src/db (tests) and dist/db (the built server). */
export const TEMPLATE_FILE = fileURLToPath(new URL('../../dist/pglite-template.tar.gz', import.meta.url));

/**
 * Unpacks the template into `dataDir` (which must not exist yet) and returns true; false when there is no template
 * (a build that did not make one), and then PGlite's initdb runs as before. Written beside the target and renamed
 * into place, so a crash half-way leaves no half-made database that the next start would take for a real one.
 */
export function unpackTemplate(dataDir: string, file = TEMPLATE_FILE): boolean {
  if (!existsSync(file)) return false;
  const partial = `${dataDir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  try {
    extractTar(gunzipSync(readFileSync(file)), partial);
    renameSync(partial, dataDir);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  return true;
}

/**
 * The ustar subset PGlite's dumpDataDir writes: regular files and directories, names under 255 bytes. Written here
 * rather than with node-tar on purpose: the archive is our own build output, and a database directory wants exactly
 * this: owner-only modes (0700/0600) whatever the archive says, no ownership taken from it even when running as root
 * (node-tar's default then), and a refusal of anything else (links, devices, paths leaving the directory).
 */
function extractTar(tar: Buffer, into: string): void {
  mkdirSync(into, { recursive: true, mode: 0o700 });
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) break; // end of archive
    const text = (from: number, length: number) =>
      header
        .subarray(from, from + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const prefix = text(345, 155);
    const name = prefix ? `${prefix}/${text(0, 100)}` : text(0, 100);
    const size = Number.parseInt(text(124, 12).trim() || '0', 8);
    const type = text(156, 1) || '0';
    const target = normalize(join(into, name));
    if (target !== into && !target.startsWith(into + sep))
      throw new Error(`template entry outside the database: ${name}`);
    at += 512;
    if (type === '5') mkdirSync(target, { recursive: true, mode: 0o700 });
    else if (type === '0') {
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      writeFileSync(target, tar.subarray(at, at + size), { mode: 0o600 });
    } else throw new Error(`template entry of an unexpected type ${type}: ${name}`);
    at += Math.ceil(size / 512) * 512;
  }
}
