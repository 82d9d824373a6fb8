/**
 * How much of a file the content scan reads. Text is read up to 1 MiB (LIMITS.fileBytes): beyond that a text file is
 * data, not configuration. Built bundles, source maps and binary files (a committed SQLite database) are read up to
 * 16 MiB, because that is where a credential hides in them; anything larger is skipped and named in a note.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { isBundlePath, isSourceMap } from './bundles.js';

export const LARGE_FILE_BYTES = 16 * 1024 * 1024;

function headIsBinaryOrMinified(full: string): boolean {
  const head = Buffer.alloc(8192);
  const fd = openSync(full, 'r');
  try {
    const read = readSync(fd, head, 0, head.length, 0);
    const bytes = head.subarray(0, read);
    // Binary as git decides (a NUL), or minified: 8 KiB without a line break.
    return bytes.includes(0) || (read === head.length && !bytes.includes(10));
  } finally {
    closeSync(fd);
  }
}

/**
 * The file's bytes for the secret scan, or `skipped` with the reason when it is over its bound, or undefined when it
 * cannot be read. `textLimit` is the bound for ordinary text files.
 */
export function readForSecretScan(
  full: string,
  path: string,
  textLimit: number,
): Buffer | { skipped: string } | undefined {
  try {
    const size = statSync(full).size;
    if (size > textLimit) {
      const large = isBundlePath(path) || isSourceMap(path) || headIsBinaryOrMinified(full);
      if (!large) return { skipped: `${path} (${size} bytes of text, over ${textLimit})` };
      if (size > LARGE_FILE_BYTES) return { skipped: `${path} (${size} bytes, over ${LARGE_FILE_BYTES})` };
    }
    return readFileSync(full);
  } catch {
    return undefined;
  }
}
