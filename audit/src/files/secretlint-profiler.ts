/**
 * secretlint's profiler, turned off. @secretlint/core and @secretlint/node mark the start and end of every lint, rule
 * and format step on one process-wide `secretLintProfiler` (@secretlint/profiler). Its PerformanceObserver keeps every
 * mark in an array forever and, for each new `::end` mark, `find`s through that array, and each mark also stays in
 * node's global performance timeline: the cost of scanning one file grows with the number scanned before it
 * (quadratic in files per process; 77% of a 3,000-commit history audit went there). The marks feed only secretlint's
 * own `--profile` output, which the auditor never reads.
 *
 * Why a no-op `mark`, not clearing the arrays between files: the observer's callback and the `measure` it schedules run
 * later (a macrotask, then a microtask); clearing marks under them makes that `measure` throw
 * ERR_INVALID_PERFORMANCE_MARK in a promise nobody awaits (an unhandled rejection), and the arrays would refill
 * between two clears anyway. With `mark` a no-op nothing is created: no timeline entry, no observer callback, no
 * measure. The observer itself is private to the profiler and cannot be disconnected. One module instance is shared
 * by core and node (a single @secretlint/profiler in the tree, pinned with them), so replacing the method on the
 * exported singleton covers every caller; audit/test/linear-scans.test.ts checks the per-file cost stays flat.
 */
import { secretLintProfiler } from '@secretlint/profiler';

let silenced = false;

export function silenceSecretlintProfiler(): void {
  if (silenced) return;
  // Called before the first engine is made (createScanner), so nothing was marked before.
  secretLintProfiler.mark = () => {};
  silenced = true;
}
