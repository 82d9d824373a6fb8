/** The bench's table: each endpoint against both floors (same-SQL and minimal), as markdown. */

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** A row's two ratios: the API's req/s over each floor's. */
export function ratios(row) {
  return { vsSameSql: row.api.rps / row.floor.rps, vsMinimal: row.api.rps / row.minimal.rps };
}

export function resultsTable(results) {
  return [
    '| Scenario | API req/s | API p50 ms | API p99 ms | API errors | API RSS MB | same-SQL floor req/s | minimal floor req/s | API / same-SQL | API / minimal |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const ratio = ratios(r);
      return `| ${r.scenario} | ${fixed(r.api.rps, 0)} | ${fixed(r.api.p50, 2)} | ${fixed(r.api.p99, 2)} | ${r.api.errors} | ${fixed(r.api.rssMb, 0)} | ${fixed(r.floor.rps, 0)} | ${fixed(r.minimal.rps, 0)} | ${fixed(ratio.vsSameSql, 2)} | ${fixed(ratio.vsMinimal, 2)} |`;
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
