/** The bench's table: each endpoint against both floors (same-SQL and minimal), as markdown. */

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** A row's two ratios: the API's req/s over each floor's. */
export function ratios(row) {
  return { vsSameSql: row.api.rps / row.floor.rps, vsMinimal: row.api.rps / row.minimal.rps };
}

export function resultsTable(results) {
  return [
    '| Scenario | API req/s | API p50 ms | API p99 ms | API errors | API RSS MB | same-SQL floor req/s | minimal floor req/s | floor errors (same-SQL / minimal) | API / same-SQL | API / minimal |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const ratio = ratios(r);
      return `| ${r.scenario} | ${fixed(r.api.rps, 0)} | ${fixed(r.api.p50, 2)} | ${fixed(r.api.p99, 2)} | ${r.api.errors} | ${fixed(r.api.rssMb, 0)} | ${fixed(r.floor.rps, 0)} | ${fixed(r.minimal.rps, 0)} | ${r.floor.errors} / ${r.minimal.errors} | ${fixed(ratio.vsSameSql, 2)} | ${fixed(ratio.vsMinimal, 2)} |`;
    }),
  ].join('\n');
}

/** Every round's ratio (API and floors run back to back within a round), so the spread shows. */
export function spreadLines(results) {
  return results.map((r) => {
    const same = r.rounds.map((x) => fixed(x.api / x.floor, 2)).join(', ');
    const minimal = r.rounds.map((x) => fixed(x.api / x.minimal, 2)).join(', ');
    return `- ${r.scenario}: per round API / same-SQL ${same}; API / minimal ${minimal}`;
  });
}

/** The growth benchmark's report: big against empty for the same requests, then plans and sizes. */
export function scaleTable(report) {
  const { options, measured = {}, seed = {}, explain = {}, sizes } = report;
  const lines = [
    `# Growth benchmark ${report.stamp}`,
    '',
    `Big database: ${options.users} users, ${options.tasks} tasks (~${report.perUser} a user), one heavy user with ${options.heavyTasks}. Empty database: the same two users with the same tasks and nobody else. ${options.samples} sequential keep-alive requests each; ms.`,
    '',
    `- Seed: tasks ${seed.tasksMs ?? 'n/a'} ms (${seed.rowsPerSecond ?? 'n/a'} rows/s), users ${seed.usersMs ?? 'n/a'} ms, index + analyze ${seed.indexMs ?? 'n/a'} ms.`,
    `- Migration 0004 applied to the big table (start-up to listening): ${report.migration0004Ms ?? 'n/a'} ms; a start with nothing to apply: ${report.startMigratedMs ?? 'n/a'} ms; \`CHECKPOINT\` + \`sync\` before timing: ${report.checkpointMs ?? 'n/a'} ms${report.checkpointSkipped ? ` (CHECKPOINT refused: ${report.checkpointSkipped})` : ''}.`,
    '',
  ];
  if (report.error) lines.push(`**The run stopped early:** ${report.error.split('\n')[0]}`, '');
  for (const [label, runs] of Object.entries(measured)) {
    lines.push(
      `## ${label} user`,
      '',
      '| Request | big p50 | big p99 | empty p50 | empty p99 | p99 big / empty |',
      '|---|---|---|---|---|---|',
    );
    for (const row of runs.big) {
      const name = row.name.replace(/ \(page \d+\)/, '');
      const other = runs.empty.find((r) => r.name.replace(/ \(page \d+\)/, '') === name);
      lines.push(
        `| ${row.name} | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} | ${other?.p50.toFixed(2) ?? 'n/a'} | ${other?.p99.toFixed(2) ?? 'n/a'} | ${other ? (row.p99 / other.p99).toFixed(2) : 'n/a'} |`,
      );
    }
    const firstLast = runs.big.filter((r) => / (first|last) page/.test(r.name));
    if (firstLast.some((r) => r.name.includes('last page'))) {
      lines.push('', 'Last page / first page (big database, p50 and p99):', '');
      for (const sort of ['oldest', 'newest', 'due', 'title']) {
        const first = firstLast.find((r) => r.name === `list sort=${sort}, first page`);
        const last = firstLast.find((r) => r.name.startsWith(`list sort=${sort}, last page`));
        if (first && last)
          lines.push(
            `- ${sort}: x${(last.p50 / first.p50).toFixed(2)} (p50), x${(last.p99 / first.p99).toFixed(2)} (p99)`,
          );
      }
    }
    lines.push('');
  }
  if (sizes) {
    lines.push(`## Sizes (database ${sizes.database})`, '', '| Relation | Kind | Size |', '|---|---|---|');
    for (const r of sizes.relations) lines.push(`| ${r.name} | ${r.kind} | ${r.size} |`);
    lines.push('');
  }
  for (const [label, plans] of Object.entries(explain)) {
    lines.push(`## EXPLAIN (ANALYZE, BUFFERS), ${label} user, big database`, '');
    for (const { name, plan } of plans) lines.push(`### ${name}`, '', '```', plan, '```', '');
  }
  return lines.join('\n');
}
