-- Statistics for what 0004 added: the folded search column, the due date and the title sort's expression. 0004
-- rewrote the table, which leaves the new column without statistics and counts no modification, so autovacuum would
-- not analyze it for a long time. Without them the planner guessed 0.8% of the rows for any search: on 10,000,000
-- tasks a search of a word in every task took 550 ms (a bitmap of the whole trigram index) instead of 0.1 ms (the
-- account's own index, stopping at the page). Measured by `npm run bench -- --scale`; ~0.6 s on that table.
ANALYZE "tasks";
