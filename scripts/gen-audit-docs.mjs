/**
 * Rewrites the three check tables of docs/audit.md (configuration, files, live) from the auditor's CHECKS registry,
 * which is itself derived from the settings rules table for configuration checks. `npm run gen:audit-docs`;
 * audit/test/cli.test.ts fails when the committed tables drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { areaOf, CHECKS } from '@ironclad/audit/findings';

const DOC = fileURLToPath(new URL('../docs/audit.md', import.meta.url));
const HEADER = '| ID | Severity | Triggered by | Fix |\n|---|---|---|---|\n';
const cell = (text) => text.replace(/\|/g, '\\|');

let doc = readFileSync(DOC, 'utf8');
for (const area of ['config', 'files', 'live']) {
  const rows = Object.entries(CHECKS)
    .filter(([id]) => areaOf(id) === area)
    .map(([id, check]) => `| \`${id}\` | ${check.severity} | ${cell(check.trigger)} | ${cell(check.fix)} |`)
    .join('\n');
  // The n-th table with this header belongs to the n-th area; its rows run to the first blank line.
  const starts = [...doc.matchAll(/\| ID \| Severity \| Triggered by \| Fix \|\n\|---\|---\|---\|---\|\n/g)];
  const start = starts[['config', 'files', 'live'].indexOf(area)];
  if (!start) throw new Error(`docs/audit.md: no check table for ${area}`);
  const from = start.index + HEADER.length;
  const to = doc.indexOf('\n\n', from);
  doc = `${doc.slice(0, from)}${rows}${doc.slice(to)}`;
}
writeFileSync(DOC, doc);
console.log(`wrote ${DOC}`);
