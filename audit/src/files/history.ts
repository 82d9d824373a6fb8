/**
 * Credentials in git history: every blob reachable from any ref, any stash entry or the index (see historyBlobs in
 * git.ts), each read once through one streamed `git cat-file --batch` and scanned with the same scanner as the files.
 * There is no count or total-size cap: the cost is linear in the history's distinct content (a 3,000-commit, 22 MB
 * history scans in a few seconds, audit/test/large-history.test.ts). What is not scanned, and why:
 *  - blobs identical to a file in the work tree (the file scan read that content already);
 *  - lockfiles, images, archives and binary content, as in the file scan (isScannable: policy, not a gap);
 *  - a blob over HISTORY_BLOB_BYTES, one git cannot read, or history git could not walk (a shallow clone, a broken
 *    ref): each is named in a note and raises files.history.incomplete, so a skip is never silent.
 */
import { type Finding, finding } from '../findings.js';
import { historyBlobs, readBlobs, unchangedIndexBlobs } from '../git.js';
import { isScannable, type Scanner, type SecretHit } from '../secrets-scan.js';

/** A text file this big is a data dump, not source; reading one would hold it in memory whole. */
export const HISTORY_BLOB_BYTES = 32 * 1024 * 1024;
/** Skipped blobs named one per note up to this many (the finding says how many in all). */
const NAMED_SKIPS = 50;

export interface HistoryStats {
  /** Distinct blobs reachable in history. */
  blobs: number;
  /** Blobs read and scanned, and their bytes. */
  scanned: number;
  scannedBytes: number;
  /** Identical to a work-tree file, so scanned as that file. */
  inWorkTree: number;
  /** Lockfiles and binary content (not scanned by policy, as in the file scan). */
  notScannable: number;
  /** Time in git (listing and reading) and in the scanner, in milliseconds. */
  gitMs: number;
  scanMs: number;
}

export interface HistoryScan {
  findings: Finding[];
  notes: string[];
  stats: HistoryStats;
}

function historyFinding(path: string, sha: string, hit: SecretHit): Finding {
  const rule = hit.kind === 'entropy' ? 'high-entropy string' : hit.rule;
  // A vendor's test-mode key is a warning in a file, and no worse for having been deleted since.
  return finding(
    hit.kind === 'test-credential' ? 'files.secret.test-credential' : 'files.history.secret',
    `git history: ${path} (blob ${sha.slice(0, 10)}) line ${hit.line}: ${rule}`,
    `${path}@${sha.slice(0, 10)}`,
  );
}

export async function scanHistory(
  dir: string,
  scanner: Scanner,
  options: { fileScanBytes: number; maxBlobBytes?: number },
): Promise<HistoryScan> {
  const maxBlobBytes = options.maxBlobBytes ?? HISTORY_BLOB_BYTES;
  const started = performance.now();
  const [listing, inIndex] = await Promise.all([historyBlobs(dir), unchangedIndexBlobs(dir)]);
  const stats: HistoryStats = {
    blobs: listing.blobs.length,
    scanned: 0,
    scannedBytes: 0,
    inWorkTree: 0,
    notScannable: 0,
    gitMs: performance.now() - started,
    scanMs: 0,
  };
  const skipped: string[] = [];
  const toRead: { sha: string; path: string }[] = [];
  for (const blob of listing.blobs) {
    // The file scan reads work-tree files up to its own size bound; a bigger one is scanned here.
    if (inIndex.has(blob.sha) && blob.size <= options.fileScanBytes) stats.inWorkTree += 1;
    else if (!isScannable(blob.path, Buffer.alloc(0))) stats.notScannable += 1;
    else if (blob.size > maxBlobBytes) {
      skipped.push(`${blob.path}@${blob.sha.slice(0, 10)} (${blob.size} bytes, over the ${maxBlobBytes} byte bound)`);
    } else toRead.push(blob);
  }

  const findings: Finding[] = [];
  // One finding per path and rule: a key that stayed in a file for 500 commits is one leak, not 500.
  const reported = new Set<string>();
  let index = 0;
  let readStarted = performance.now();
  for await (const { sha, content } of readBlobs(
    dir,
    toRead.map((blob) => blob.sha),
  )) {
    const scanStarted = performance.now();
    stats.gitMs += scanStarted - readStarted;
    // cat-file answers in the order asked, one answer per id.
    const path = toRead[index]?.path ?? '';
    index += 1;
    if (!content) skipped.push(`${path}@${sha.slice(0, 10)} (git could not read it)`);
    else if (!isScannable(path, content)) stats.notScannable += 1;
    else {
      stats.scanned += 1;
      stats.scannedBytes += content.length;
      for (const hit of await scanner.scan(content.toString('utf8'), path)) {
        const key = `${path}\0${hit.rule}`;
        if (reported.has(key)) continue;
        reported.add(key);
        findings.push(historyFinding(path, sha, hit));
      }
    }
    readStarted = performance.now();
    stats.scanMs += readStarted - scanStarted;
  }
  for (const blob of toRead.slice(index)) skipped.push(`${blob.path}@${blob.sha.slice(0, 10)} (git stopped before it)`);

  const notes = [
    ...listing.problems.map((problem) => `history not fully scanned: ${problem}`),
    ...skipped.slice(0, NAMED_SKIPS).map((what) => `history blob not scanned: ${what}`),
    ...(skipped.length > NAMED_SKIPS ? [`and ${skipped.length - NAMED_SKIPS} more history blobs not scanned`] : []),
  ];
  if (listing.problems.length > 0 || skipped.length > 0) {
    const parts = [
      ...listing.problems,
      ...(skipped.length > 0
        ? [`${skipped.length} blob${skipped.length === 1 ? '' : 's'} not scanned (see notes)`]
        : []),
    ];
    findings.push(finding('files.history.incomplete', `git history was not scanned completely: ${parts.join('; ')}`));
  }
  return { findings, notes, stats };
}
