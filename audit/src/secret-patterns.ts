/**
 * Credential formats that secretlint's recommended preset does not know (it has AWS, GCP service-account JSON,
 * private keys, npm, Slack, SendGrid, Shopify, GitHub, OpenAI, Anthropic, Linear, 1Password and database URLs),
 * written from each vendor's documented token format, plus a few of the preset's own formats again so that
 * scanEnvFile (synchronous, no secretlint) and the binary scan see them too (secrets-scan.ts drops a duplicate when
 * secretlint reported the same line).
 *
 * A match must stand alone: the character before it is not a letter or digit, and the character after it does not
 * continue the token (the body's quantifier is greedy, so an over-long run is refused rather than cut). The body
 * must also look generated: documentation placeholders (`sk_test_xxxxxxxx`, `glpat-your-token-here`) and AWS-style
 * `...EXAMPLE` values are not credentials.
 *
 * Every pattern is a literal here (server/test/regex-everywhere.test.ts checks each for linear time): a fixed
 * prefix, then bounded character classes that the prefix does not overlap.
 */
import { createHash } from 'node:crypto';

/** `live`: a working credential (critical). `test`: a vendor's test-mode key (still a key, but a warning). */
export type CredentialClass = 'live' | 'test';

/**
 * A token format as a sequence of parts: literal text (or alternatives), then runs of a character set with a length
 * range. Matched by hand, not by a regular expression: bounded repeats like `[0-9a-f]{32}` make the ReDoS analyser's
 * automaton explode, and an unbounded body that contains the prefix's characters (`glpat-[\w-]+`) rescans
 * `glpat-glpat-…` from every repeat. Here a candidate starts only where its first literal is (indexOf), or where a
 * run of its first set starts, and a run is read greedily once, up to its maximum: linear in the text.
 */
type Part =
  | { readonly literal: readonly string[] }
  | { readonly set: string; readonly min: number; readonly max: number };

export interface SecretPattern {
  readonly id: string;
  readonly parts: readonly Part[];
  readonly class: CredentialClass;
  /** Characters that would continue the token: a match followed by one is part of something longer. */
  readonly tail: string;
  /** Only on lines naming the vendor (formats too generic alone: a bare 32-hex value is anything). */
  readonly keyword?: string;
  /** Checks of the whole match beyond its shape. */
  readonly accept?: (token: string, line: string) => boolean;
}

const DIGITS = '0123456789';
const HEX = `${DIGITS}abcdef`;
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const LETTERS = UPPER + LOWER;
const ALNUM = DIGITS + LETTERS;
const WORD_DASH = `${ALNUM}_-`;
const BASE64 = `${ALNUM}+/`;
const NOTHING = '';

const lit = (...texts: string[]): Part => ({ literal: texts });
const run = (set: string, min: number, max = min): Part => ({ set, min, max });

/** Stripe's own documented test keys (published in its API reference), by SHA-256 so that no key is written here. */
const DOCUMENTED_KEYS = new Set([
  '2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326',
  'f2d6ca16515033e5dce14eba840b979d27b5cbae24bb3e5bf484339667f86397',
  '7e8de44ea9ecf6d53415c90f5b249a8591f7abafbf7d65a2c0d855afeca3ec09',
]);

function has(text: string, set: string): boolean {
  for (const char of text) if (set.includes(char)) return true;
  return false;
}
/**
 * Looks generated: upper and lower case, and a digit. A random base62 body of 24 characters has no digit about once in
 * 65 (a CI run missed such a Stripe test key), so a body without one is accepted when its letters are random-looking
 * too: 16+ characters, a quarter to three quarters upper case. A CamelCase phrase (`YourSecretKeyGoesHere`,
 * `ReplaceWithYourStripeKey`) has upper case only at word starts, about a fifth. Measured on 100,000 keys drawn as audit/test/history.test.ts
 * draws them: 1,650 missed before, 14 now.
 */
function mixedCase(body: string): boolean {
  if (!has(body, LOWER) || !has(body, UPPER)) return false;
  if (has(body, DIGITS)) return true;
  let upper = 0;
  for (const char of body) if (UPPER.includes(char)) upper += 1;
  const share = upper / body.length;
  return body.length >= 16 && share >= 0.25 && share <= 0.75;
}
const mixedAfter = (prefix: number) => (token: string) => mixedCase(token.slice(prefix));
const bothCasesAfter = (prefix: number) => (token: string) =>
  has(token.slice(prefix), LOWER) && has(token.slice(prefix), UPPER);

/** Firebase web configs carry a Google API key by design (it identifies the project; rules protect the data). */
function notFirebaseConfig(_token: string, line: string): boolean {
  return !line.includes('firebaseapp.com') && !line.includes('authDomain') && !line.includes('messagingSenderId');
}

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  // Stripe (https://docs.stripe.com/keys): secret and restricted keys, live or test mode. Publishable pk_ keys are
  // public by design and not listed.
  {
    id: 'stripe-live-key',
    parts: [lit('sk_live_', 'rk_live_'), run(ALNUM, 20, 247)],
    class: 'live',
    tail: ALNUM,
    accept: mixedAfter(8),
  },
  {
    id: 'stripe-test-key',
    parts: [lit('sk_test_', 'rk_test_'), run(ALNUM, 20, 247)],
    class: 'test',
    tail: ALNUM,
    accept: mixedAfter(8),
  },
  {
    id: 'stripe-webhook-secret',
    parts: [lit('whsec_'), run(ALNUM, 32, 64)],
    class: 'live',
    tail: ALNUM,
    accept: mixedAfter(6),
  },
  // PyPI API tokens are macaroons whose base64 starts with the issuer (pypi.org, or test.pypi.org).
  {
    id: 'pypi-token',
    parts: [lit('pypi-AgEIcHlwaS5vcmc', 'pypi-AgENdGVzdC5weXBpLm9yZw'), run(WORD_DASH, 50, 1000)],
    class: 'live',
    tail: WORD_DASH,
  },
  // GitLab (https://docs.gitlab.com/security/tokens/): personal/project/group access, deploy, runner tokens.
  {
    id: 'gitlab-token',
    parts: [lit('glpat-', 'gldt-', 'glrt-', 'glsoat-', 'glcbt-'), run(WORD_DASH, 20, 300)],
    class: 'live',
    tail: WORD_DASH,
  },
  { id: 'gitlab-pipeline-trigger-token', parts: [lit('glptt-'), run(HEX, 40)], class: 'live', tail: ALNUM },
  {
    id: 'gitlab-runner-registration-token',
    parts: [lit('GR1348941'), run(WORD_DASH, 20)],
    class: 'live',
    tail: WORD_DASH,
  },
  // Docker Hub personal and organization access tokens.
  {
    id: 'docker-hub-token',
    parts: [lit('dckr_pat_', 'dckr_oat_'), run(WORD_DASH, 27, 64)],
    class: 'live',
    tail: WORD_DASH,
  },
  // Google API keys: AIza + 35. Not in a Firebase web config, where the key is public by design.
  {
    id: 'google-api-key',
    parts: [lit('AIza'), run(WORD_DASH, 35)],
    class: 'live',
    tail: WORD_DASH,
    accept: notFirebaseConfig,
  },
  // Hugging Face user and organization tokens: hf_ / api_org_ + 34 letters.
  {
    id: 'huggingface-token',
    parts: [lit('hf_'), run(LETTERS, 34)],
    class: 'live',
    tail: WORD_DASH,
    accept: bothCasesAfter(3),
  },
  {
    id: 'huggingface-token',
    parts: [lit('api_org_'), run(LETTERS, 34)],
    class: 'live',
    tail: WORD_DASH,
    accept: bothCasesAfter(8),
  },
  // DigitalOcean personal access, OAuth and refresh tokens.
  { id: 'digitalocean-token', parts: [lit('dop_v1_', 'doo_v1_', 'dor_v1_'), run(HEX, 64)], class: 'live', tail: ALNUM },
  // Twilio auth tokens and Mailgun keys have no distinctive prefix: only on a line that names the vendor.
  {
    id: 'twilio-auth-token',
    parts: [run(HEX, 32)],
    class: 'live',
    tail: ALNUM,
    keyword: 'twilio',
    accept: (t) => has(t, 'abcdef') && has(t, DIGITS),
  },
  { id: 'mailgun-api-key', parts: [lit('key-'), run(HEX, 32)], class: 'live', tail: ALNUM, keyword: 'mailgun' },
  {
    id: 'mailgun-api-key',
    parts: [run(HEX, 32), lit('-'), run(HEX, 8), lit('-'), run(HEX, 8)],
    class: 'live',
    tail: ALNUM,
    keyword: 'mailgun',
  },
  // Heroku: the HRKU-AA platform token, or a UUID API key on a line that names Heroku and a key or token.
  { id: 'heroku-api-key', parts: [lit('HRKU-AA'), run(WORD_DASH, 58)], class: 'live', tail: WORD_DASH },
  {
    id: 'heroku-api-key',
    parts: [run(HEX, 8), lit('-'), run(HEX, 4), lit('-'), run(HEX, 4), lit('-'), run(HEX, 4), lit('-'), run(HEX, 12)],
    class: 'live',
    tail: ALNUM,
    keyword: 'heroku',
    // Heroku app ids are UUIDs too: the line must say it holds a key or token.
    accept: (_t, line) => ['api_key', 'api-key', 'apikey', 'token', 'auth'].some((w) => line.toLowerCase().includes(w)),
  },
  // Mailchimp: 32 hex and the data center.
  { id: 'mailchimp-api-key', parts: [run(HEX, 32), lit('-us'), run(DIGITS, 1, 2)], class: 'live', tail: ALNUM },
  // Telegram bot tokens: the bot's numeric id, a colon, and 35 characters that start with AA.
  {
    id: 'telegram-bot-token',
    parts: [run(DIGITS, 8, 10), lit(':AA'), run(WORD_DASH, 33)],
    class: 'live',
    tail: WORD_DASH,
    accept: (t) => mixedCase(t.slice(t.indexOf(':') + 3)),
  },
  // A Sentry DSN with its (legacy) secret part; the public-key-only DSN is meant for browsers.
  {
    id: 'sentry-dsn-secret',
    parts: [lit('https://'), run(HEX, 32), lit(':'), run(HEX, 32), lit('@')],
    class: 'live',
    tail: NOTHING,
  },
  { id: 'sentry-token', parts: [lit('sntryu_', 'sntrys_'), run(`${BASE64}_=`, 64, 400)], class: 'live', tail: BASE64 },
  // Azure storage account keys and Service Bus / Event Hubs shared access keys in connection strings.
  {
    id: 'azure-storage-account-key',
    parts: [lit('AccountKey='), run(BASE64, 86), lit('==')],
    class: 'live',
    tail: `${BASE64}=`,
  },
  {
    id: 'azure-shared-access-key',
    parts: [lit('SharedAccessKey='), run(BASE64, 43), lit('=')],
    class: 'live',
    tail: `${BASE64}=`,
  },
  // Payment, infrastructure and SaaS tokens with documented prefixes.
  { id: 'square-token', parts: [lit('sq0atp-', 'sq0csp-'), run(WORD_DASH, 22, 60)], class: 'live', tail: WORD_DASH },
  {
    id: 'braintree-access-token',
    parts: [lit('access_token$production$'), run(DIGITS + LOWER, 16), lit('$'), run(HEX, 32)],
    class: 'live',
    tail: ALNUM,
  },
  { id: 'age-secret-key', parts: [lit('AGE-SECRET-KEY-1'), run(DIGITS + UPPER, 58)], class: 'live', tail: ALNUM },
  { id: 'vault-token', parts: [lit('hvs.', 'hvb.'), run(WORD_DASH, 90, 300)], class: 'live', tail: WORD_DASH },
  { id: 'databricks-token', parts: [lit('dapi'), run(HEX, 32)], class: 'live', tail: ALNUM },
  { id: 'newrelic-api-key', parts: [lit('NRAK-'), run(DIGITS + UPPER, 27)], class: 'live', tail: ALNUM },
  { id: 'grafana-token', parts: [lit('glsa_'), run(ALNUM, 32), lit('_'), run(HEX, 8)], class: 'live', tail: ALNUM },
  { id: 'postman-api-key', parts: [lit('PMAK-'), run(HEX, 24), lit('-'), run(HEX, 34)], class: 'live', tail: ALNUM },
  { id: 'pulumi-token', parts: [lit('pul-'), run(HEX, 40)], class: 'live', tail: ALNUM },
  { id: 'supabase-token', parts: [lit('sbp_'), run(HEX, 40)], class: 'live', tail: ALNUM },
  {
    id: 'doppler-token',
    parts: [lit('dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.'), run(ALNUM, 40, 44)],
    class: 'live',
    tail: ALNUM,
  },
  { id: 'atlassian-api-token', parts: [lit('ATATT3'), run(`${WORD_DASH}=`, 186)], class: 'live', tail: WORD_DASH },
  { id: 'brevo-api-key', parts: [lit('xkeysib-'), run(HEX, 64), lit('-'), run(ALNUM, 16)], class: 'live', tail: ALNUM },
  { id: 'rubygems-api-key', parts: [lit('rubygems_'), run(HEX, 48)], class: 'live', tail: ALNUM },
  {
    id: 'alibaba-access-key-id',
    parts: [lit('LTAI'), run(ALNUM, 20)],
    class: 'live',
    tail: ALNUM,
    accept: mixedAfter(4),
  },
  {
    id: 'discord-webhook',
    parts: [
      lit('discord.com/api/webhooks/', 'discordapp.com/api/webhooks/'),
      run(DIGITS, 17, 20),
      lit('/'),
      run(WORD_DASH, 60, 68),
    ],
    class: 'live',
    tail: WORD_DASH,
  },
  // Also in secretlint's preset; here for scanEnvFile and binaries (secrets-scan.ts keeps one hit per line).
  { id: 'aws-access-key-id', parts: [lit('AKIA', 'ASIA'), run(DIGITS + UPPER, 16)], class: 'live', tail: ALNUM },
  {
    id: 'github-token',
    parts: [lit('ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'), run(ALNUM, 36)],
    class: 'live',
    tail: `${ALNUM}_`,
  },
  { id: 'github-token', parts: [lit('github_pat_'), run(`${ALNUM}_`, 82)], class: 'live', tail: `${ALNUM}_` },
  {
    id: 'slack-token',
    parts: [
      lit('xoxb-', 'xoxp-', 'xoxa-', 'xoxo-', 'xoxs-', 'xoxr-'),
      run(DIGITS, 6, 13),
      lit('-'),
      run(`${ALNUM}-`, 10, 200),
    ],
    class: 'live',
    tail: WORD_DASH,
  },
  { id: 'npm-token', parts: [lit('npm_'), run(ALNUM, 36)], class: 'live', tail: `${ALNUM}_` },
  {
    id: 'sendgrid-api-key',
    parts: [lit('SG.'), run(WORD_DASH, 22), lit('.'), run(WORD_DASH, 43)],
    class: 'live',
    tail: WORD_DASH,
  },
  {
    id: 'openai-api-key',
    parts: [lit('sk-proj-', 'sk-svcacct-', 'sk-admin-'), run(WORD_DASH, 40, 300)],
    class: 'live',
    tail: WORD_DASH,
  },
  {
    id: 'anthropic-api-key',
    parts: [lit('sk-ant-api0', 'sk-ant-admin0'), run(DIGITS, 1), lit('-'), run(WORD_DASH, 80, 200)],
    class: 'live',
    tail: WORD_DASH,
  },
];

// Words that mark a documentation value, never found in a generated token's body (lower-cased comparison).
const PLACEHOLDER_WORDS = ['example', 'your', 'xxxx', 'placeholder', 'replace', 'dummy', 'changeme', 'redacted'];

/** A documented example or a placeholder written in a token's shape, not a credential. */
export function isPlaceholderToken(token: string): boolean {
  if (token.includes('EXAMPLE')) return true; // AWS documents AKIAIOSFODNN7EXAMPLE and friends
  const lower = token.toLowerCase();
  if (PLACEHOLDER_WORDS.some((word) => lower.includes(word))) return true;
  if (hasRepeat(token, 6)) return true; // 000000, aaaaaa: typed, not generated
  if (lower.includes('0123456789') || lower.includes('abcdefgh') || lower.includes('1234567890')) return true;
  return DOCUMENTED_KEYS.has(createHash('sha256').update(token).digest('hex'));
}

/** A character repeated `count` times in a row (a loop: a back-reference is beyond the regex checker). */
function hasRepeat(text: string, count: number): boolean {
  let run = 1;
  for (let i = 1; i < text.length; i += 1) {
    run = text[i] === text[i - 1] ? run + 1 : 1;
    if (run >= count) return true;
  }
  return false;
}

export interface CredentialMatch {
  rule: string;
  class: CredentialClass;
  /** Offset of the match in the scanned text (the caller turns it into a line; the text itself is never kept). */
  index: number;
  length: number;
}

/** The line around `index`, at most 500 characters either side (a minified bundle is one line of megabytes). */
function lineAround(text: string, index: number): string {
  const from = Math.max(0, index - 500);
  const start = Math.max(from, text.lastIndexOf('\n', index) + 1);
  const newline = text.indexOf('\n', index);
  const end = Math.min(index + 500, newline === -1 ? text.length : newline);
  return text.slice(start, end);
}

const MEMBERSHIP = new Map<string, Uint8Array>();
/** A lookup table for a character set (ASCII only: every set here is). */
function membership(set: string): Uint8Array {
  let table = MEMBERSHIP.get(set);
  if (!table) {
    table = new Uint8Array(128);
    for (const char of set) table[char.charCodeAt(0)] = 1;
    MEMBERSHIP.set(set, table);
  }
  return table;
}
const inSet = (table: Uint8Array, code: number) => code < 128 && table[code] === 1;

/** The length of `parts` matched at `at` (greedy runs, no backtracking), or -1. */
function matchAt(text: string, at: number, parts: readonly Part[]): number {
  let position = at;
  for (const part of parts) {
    if ('literal' in part) {
      const found = part.literal.find((literal) => text.startsWith(literal, position));
      if (found === undefined) return -1;
      position += found.length;
    } else {
      const start = position;
      const table = membership(part.set);
      while (position - start < part.max && position < text.length && inSet(table, text.charCodeAt(position))) {
        position += 1;
      }
      if (position - start < part.min) return -1;
    }
  }
  return position - at;
}

/**
 * Calls `visit` with each offset where `rule` may start: each occurrence of its first literal; or, when one run comes
 * before that literal (`<32 hex>-us<dc>`, `<bot id>:AA...`), the start of that run read backwards from the literal;
 * or, for a rule with no literal (keyword-gated), each start of a run of its first set.
 */
function forEachStart(text: string, parts: readonly Part[], visit: (at: number) => void): void {
  const anchor = parts.findIndex((part) => 'literal' in part);
  const literal = parts[anchor];
  if (anchor === 0 || (anchor === 1 && literal && 'literal' in literal)) {
    const before = anchor === 1 ? (parts[0] as Part) : undefined;
    const table = before && 'set' in before ? membership(before.set) : undefined;
    for (const text_ of (literal as { literal: readonly string[] }).literal) {
      for (let at = text.indexOf(text_); at !== -1; at = text.indexOf(text_, at + 1)) {
        if (!table || !before || !('set' in before)) {
          visit(at);
          continue;
        }
        let start = at;
        while (at - start < before.max && start > 0 && inSet(table, text.charCodeAt(start - 1))) start -= 1;
        if (at - start >= before.min) visit(start);
      }
    }
    return;
  }
  const first = parts[0] as Part;
  if (!('set' in first)) return;
  const table = membership(first.set);
  let previous = false;
  for (let i = 0; i < text.length; i += 1) {
    const current = inSet(table, text.charCodeAt(i));
    if (current && !previous) visit(i);
    previous = current;
  }
}

/** Whether `text` names `keyword` in lower case, capitalised or upper case (no lower-cased copy of a big file). */
function mentions(text: string, keyword: string): boolean {
  return (
    text.includes(keyword) ||
    text.includes(keyword[0]?.toUpperCase() + keyword.slice(1)) ||
    text.includes(keyword.toUpperCase())
  );
}

interface Anchor {
  literal: string;
  rule: SecretPattern;
}

/** The literal each rule without a keyword is anchored on: its first literal part (after at most one run). */
export const ANCHORS = new Map<string, Anchor[]>();
for (const rule of SECRET_PATTERNS) {
  if (rule.keyword) continue;
  const part = rule.parts.find((candidate) => 'literal' in candidate);
  if (!part || !('literal' in part)) continue;
  for (const literal of part.literal) ANCHORS.set(literal, [...(ANCHORS.get(literal) ?? []), { literal, rule }]);
}

/**
 * Every anchor literal, as one alternation of plain literals: the regex engine finds all candidates of all rules in
 * one native pass (a JavaScript loop over every character, or an indexOf per literal, is several times slower on a
 * 5 MB bundle). No quantifier, so linear. A test checks that it lists exactly the literals of ANCHORS.
 */
export const ANCHOR_PATTERN =
  /sk_live_|rk_live_|sk_test_|rk_test_|whsec_|pypi-AgEIcHlwaS5vcmc|pypi-AgENdGVzdC5weXBpLm9yZw|glpat-|gldt-|glrt-|glsoat-|glcbt-|glptt-|GR1348941|dckr_pat_|dckr_oat_|AIza|hf_|api_org_|dop_v1_|doo_v1_|dor_v1_|HRKU-AA|-us|:AA|https:\/\/|sntryu_|sntrys_|AccountKey=|SharedAccessKey=|sq0atp-|sq0csp-|access_token\$production\$|AGE-SECRET-KEY-1|hvs\.|hvb\.|dapi|NRAK-|glsa_|PMAK-|pul-|sbp_|dp\.pt\.|dp\.st\.|dp\.sa\.|dp\.ct\.|ATATT3|xkeysib-|rubygems_|LTAI|discord\.com\/api\/webhooks\/|discordapp\.com\/api\/webhooks\/|AKIA|ASIA|ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|xoxb-|xoxp-|xoxa-|xoxo-|xoxs-|xoxr-|npm_|SG\.|sk-proj-|sk-svcacct-|sk-admin-|sk-ant-api0|sk-ant-admin0/g;

/** Where `rule` starts when its anchor literal is at `at` (a run before the literal is read backwards). */
function startFor(text: string, rule: SecretPattern, at: number): number {
  const first = rule.parts[0] as Part;
  if ('literal' in first) return at;
  const table = membership(first.set);
  let start = at;
  while (at - start < first.max && start > 0 && inSet(table, text.charCodeAt(start - 1))) start -= 1;
  return at - start >= first.min ? start : -1;
}

/** Every credential of a known format in `text`, documented examples and placeholders excepted. */
export function findCredentials(text: string): CredentialMatch[] {
  const found: CredentialMatch[] = [];
  const consider = (rule: SecretPattern, at: number) => {
    const length = matchAt(text, at, rule.parts);
    if (length === -1) return;
    const before = text[at - 1] ?? '';
    const after = text[at + length] ?? '';
    if ((before !== '' && ALNUM.includes(before)) || (after !== '' && rule.tail.includes(after))) return;
    const token = text.slice(at, at + length);
    if (isPlaceholderToken(token)) return;
    if (rule.keyword || rule.accept) {
      const line = lineAround(text, at);
      if (rule.keyword && !line.toLowerCase().includes(rule.keyword)) return;
      if (rule.accept && !rule.accept(token, line)) return;
    }
    found.push({ rule: rule.id, class: rule.class, index: at, length });
  };
  const anchors = ANCHOR_PATTERN;
  anchors.lastIndex = 0; // synchronous: no other call can interleave
  for (let match = anchors.exec(text); match !== null; match = anchors.exec(text)) {
    for (const { rule } of ANCHORS.get(match[0]) ?? []) {
      const start = startFor(text, rule, match.index);
      if (start !== -1) consider(rule, start);
    }
    anchors.lastIndex = match.index + 1; // anchors may overlap (`sk-ant-api0` inside a longer run)
  }
  // Vendor-gated formats (a bare hex value, a UUID): only in a text that names the vendor, which is rare.
  for (const rule of SECRET_PATTERNS) {
    if (rule.keyword && mentions(text, rule.keyword)) forEachStart(text, rule.parts, (at) => consider(rule, at));
  }
  return found.sort((a, b) => a.index - b.index);
}
