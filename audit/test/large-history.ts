/**
 * A large, realistic git history for the history scan's speed and completeness: source files edited commit by
 * commit, a few big files, a side branch and a tag, and one AWS key committed at commit 100 and removed at 101.
 * Built with `git fast-import` (one process, no working-tree writes per commit), so 3,000 commits take a few seconds.
 * Content is deterministic (a seeded generator); the key is random, made at run time (no literal key in this file).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mulberry32 } from './corpus/secrets.js';
import { git, tempDir } from './fixtures.js';

export interface LargeHistory {
  dir: string;
  commits: number;
  /** Sum of the sizes of every distinct blob version written (the history's uncompressed content). */
  historyBytes: number;
  /** The planted key id and secret, for the "never printed" check. */
  secrets: string[];
  /** Where the key was: the path it lived at, only in commit `keyCommit`. */
  keyPath: string;
  keyCommit: number;
}

const WORDS = [
  'task',
  'project',
  'user',
  'owner',
  'status',
  'due',
  'title',
  'list',
  'filter',
  'count',
  'page',
  'item',
  'result',
  'value',
  'index',
  'query',
  'order',
  'limit',
  'cursor',
  'token_count',
];

function sourceLine(random: () => number, n: number): string {
  const word = () => WORDS[Math.floor(random() * WORDS.length)] as string;
  switch (Math.floor(random() * 5)) {
    case 0:
      return `export function ${word()}_${n}(${word()}: number): number { return ${word()} * ${Math.floor(random() * 97)} + ${n}; }`;
    case 1:
      return `// ${word()} ${word()} ${word()}: keep the ${word()} in step with the ${word()} (see issue ${n}).`;
    case 2:
      return `const ${word()}_${n} = { ${word()}: '${word()}', ${word()}: ${Math.floor(random() * 1000)}, ready: ${random() < 0.5} };`;
    case 3:
      return `  if (${word()}.length > ${Math.floor(random() * 50)}) throw new Error('${word()} ${word()} too long');`;
    default:
      return `def ${word()}_${n}(${word()}, ${word()}=None):  # ${word()} ${word()}`;
  }
}

function awsKeyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return `${'AK'}IA${[...randomBytes(16)].map((b) => alphabet[b % 32]).join('')}`;
}

/**
 * `commits` commits on main (default 3,000), ~22 MB of distinct blob content at the default size, plus a 20-commit
 * branch `feature/export` and a tag. `scale` multiplies the per-commit edit size.
 */
export function largeHistory(options: { commits?: number; keyCommit?: number } = {}): LargeHistory {
  const commits = options.commits ?? 3000;
  const keyCommit = options.keyCommit ?? 100;
  const random = mulberry32(14); // seeded: the same history every run
  const dir = tempDir('ironclad-large-history-');
  git(dir, 'init', '-q', '-b', 'main');

  const chunks: Buffer[] = [];
  const emit = (text: string) => chunks.push(Buffer.from(text, 'utf8'));
  const data = (content: string | Buffer) => {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    emit(`data ${bytes.length}\n`);
    chunks.push(bytes, Buffer.from('\n'));
  };
  let historyBytes = 0;
  const modify = (path: string, content: string | Buffer) => {
    emit(`M 100644 inline ${path}\n`);
    data(content);
    historyBytes += typeof content === 'string' ? Buffer.byteLength(content) : content.length;
  };

  // Source files that grow as they are edited.
  const files = new Map<string, string[]>();
  for (let i = 0; i < 70; i += 1) {
    const path = i % 3 === 0 ? `server/app/module_${i}.py` : `web/src/feature_${i}.ts`;
    files.set(
      path,
      Array.from({ length: 15 + Math.floor(random() * 40) }, (_, n) => sourceLine(random, n)),
    );
  }
  const paths = [...files.keys()];
  const keyId = awsKeyId();
  const keySecret = randomBytes(30).toString('base64');
  const keyPath = 'scripts/backup_to_s3.py';
  const backupScript = (id: string, secret: string) =>
    [
      'import boto3',
      '',
      `AWS_ACCESS_KEY_ID = ${id}`,
      `AWS_SECRET_ACCESS_KEY = ${secret}`,
      '',
      'def upload(path):',
      "    client = boto3.client('s3', aws_access_key_id=AWS_ACCESS_KEY_ID, aws_secret_access_key=AWS_SECRET_ACCESS_KEY)",
      "    client.upload_file(path, 'tasks-backups', path)",
      '',
    ].join('\n');
  const bigJson = (version: number) =>
    `${JSON.stringify(
      Array.from({ length: 9000 }, (_, n) => ({
        id: n,
        title: `${WORDS[n % WORDS.length]} ${n} v${version}`,
        done: n % 3 === 0,
      })),
      null,
      1,
    )}\n`;

  let time = 1_600_000_000;
  const commit = (ref: string, mark: number, parent: number | undefined, message: string, body: () => void) => {
    time += 3600;
    emit(`commit ${ref}\nmark :${mark}\ncommitter Dev <dev@example.com> ${time} +0000\n`);
    data(message);
    if (parent !== undefined) emit(`from :${parent}\n`);
    body();
    emit('\n');
  };

  for (let c = 1; c <= commits; c += 1) {
    commit('refs/heads/main', c, c > 1 ? c - 1 : undefined, `change ${c}`, () => {
      if (c === 1) for (const [path, lines] of files) modify(path, `${lines.join('\n')}\n`);
      else {
        const edits = random() < 0.4 ? 2 : 1;
        for (let e = 0; e < edits; e += 1) {
          const path = paths[Math.floor(random() * paths.length)] as string;
          const lines = files.get(path) as string[];
          lines[Math.floor(random() * lines.length)] = sourceLine(random, c);
          lines.push(sourceLine(random, c));
          modify(path, `${lines.join('\n')}\n`);
        }
      }
      if (c === keyCommit) modify(keyPath, backupScript(`'${keyId}'`, `'${keySecret}'`));
      if (c === keyCommit + 1)
        modify(keyPath, backupScript("os.environ['AWS_ACCESS_KEY_ID']", "os.environ['AWS_SECRET_ACCESS_KEY']"));
      // Big files: a fixture data set rewritten now and then, a vendored bundle, a binary image.
      if (c === 50)
        modify(
          'web/vendor/bundle.js',
          `${Array.from({ length: 12000 }, (_, n) => sourceLine(random, n)).join('\n')}\n`,
        );
      if (c === 60)
        modify('web/public/logo.png', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0]), randomBytes(200_000)]));
      if (c % 700 === 300) modify('server/fixtures/tasks.json', bigJson(c));
    });
  }
  // A side branch off commit 2000 and a tag: history scanning covers every ref, not only HEAD.
  const fork = Math.min(2000, commits);
  for (let b = 1; b <= 20; b += 1) {
    commit('refs/heads/feature/export', commits + b, b === 1 ? fork : commits + b - 1, `export ${b}`, () => {
      modify('web/src/export.ts', `${Array.from({ length: 40 + b }, (_, n) => sourceLine(random, n)).join('\n')}\n`);
    });
  }
  emit(`reset refs/tags/v1.0\nfrom :${Math.min(1500, commits)}\n\n`);

  execFileSync('git', ['-C', dir, 'fast-import', '--quiet'], { input: Buffer.concat(chunks), maxBuffer: 1 << 20 });
  git(dir, 'checkout', '-q', '-f', 'main');
  return { dir, commits, historyBytes, secrets: [keyId, keySecret], keyPath, keyCommit };
}
