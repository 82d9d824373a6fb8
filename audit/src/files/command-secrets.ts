/**
 * Passwords written into a compose `command:`, `entrypoint:` or healthcheck test: `redis-server --requirepass pw`,
 * `--password=pw`, `--password pw`, mysql's `-ppw`, `mongosh -p pw`, `redis-cli -a pw`. An interpolation (`$VAR`,
 * `${VAR}`, `$$VAR` read by the container's shell, `$(cat /run/secrets/x)`) is how it should be done and passes.
 * Reports the option, never the value. A word scan: the text is the audited repository's.
 */

/** Options whose next word (or `=value`) is a password, whatever the program. */
const PASSWORD_OPTIONS = new Set([
  '--requirepass',
  '--masterauth',
  '--password',
  '--pass',
  '--db-password',
  '--dbpass',
]);

/** Programs whose short `-p` (attached: mysql `-ppw`; or separate: mongo `-p pw`) or `-a` is a password. */
const ATTACHED_P = new Set(['mysql', 'mysqladmin', 'mysqldump', 'mariadb', 'mariadb-admin', 'mariadb-dump']);
const SEPARATE_P = new Set(['mongo', 'mongosh', 'mongodump', 'mongorestore', 'mongoexport', 'mongoimport']);
const DASH_A = new Set(['redis-cli', 'valkey-cli', 'keydb-cli']);
const SEPARATORS = new Set(['&&', '||', ';', '|', '&']);

function unquoted(word: string): string {
  let start = 0;
  let end = word.length;
  while (start < end && (word[start] === '"' || word[start] === "'")) start += 1;
  while (end > start && (word[end - 1] === '"' || word[end - 1] === "'" || word[end - 1] === ';')) end -= 1;
  return word.slice(start, end);
}

function isLiteral(value: string): boolean {
  return value !== '' && !value.startsWith('$') && !value.startsWith('-') && !value.startsWith('`');
}

function programOf(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1).toLowerCase();
}

/** The options that are given a literal password in a command (as a string, or a list of arguments). */
export function literalPasswordOptions(command: unknown): string[] {
  const text = Array.isArray(command) ? command.map(String).join(' ') : typeof command === 'string' ? command : '';
  if (!text) return [];
  const words = text
    .split(/[ \t\n\r]+/)
    .map(unquoted)
    .filter((word) => word !== '');
  const found: string[] = [];
  let program = '';
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    if (SEPARATORS.has(word)) {
      program = '';
      continue;
    }
    const name = programOf(word);
    if (ATTACHED_P.has(name) || SEPARATE_P.has(name) || DASH_A.has(name)) program = name;
    const eq = word.indexOf('=');
    const option = eq > 0 ? word.slice(0, eq) : word;
    if (PASSWORD_OPTIONS.has(option.toLowerCase())) {
      const value = eq > 0 ? word.slice(eq + 1) : unquoted(words[i + 1] ?? '');
      if (isLiteral(unquoted(value))) found.push(option);
    } else if (ATTACHED_P.has(program) && word.startsWith('-p') && word.length > 2 && !word.startsWith('--')) {
      if (isLiteral(word.slice(2))) found.push('-p');
    } else if (SEPARATE_P.has(program) && word === '-p') {
      if (isLiteral(words[i + 1] ?? '')) found.push('-p');
    } else if (DASH_A.has(program) && word === '-a') {
      if (isLiteral(words[i + 1] ?? '')) found.push('-a');
    }
  }
  return [...new Set(found)];
}
