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

export interface SecretPattern {
  readonly id: string;
  readonly pattern: RegExp;
  readonly class: CredentialClass;
  /** Characters that would continue the token: a match followed by one is part of something longer. */
  readonly tail: RegExp;
  /** Only on lines naming the vendor (formats too generic alone: a bare 32-hex value is anything). */
  readonly keyword?: string;
  /** Checks of the whole match beyond its shape. */
  readonly accept?: (token: string, line: string) => boolean;
}

const ALNUM = /[0-9A-Za-z]/;
const WORD_DASH = /[0-9A-Za-z_-]/;
const BASE64 = /[0-9A-Za-z+/=]/;
/** For matches that end in a delimiter of their own (`@`): nothing after them continues the token. */
const NOTHING = /[^\s\S]/;

/** Stripe's own documented test keys (published in its API reference), by SHA-256 so that no key is written here. */
const DOCUMENTED_KEYS = new Set([
  '2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326',
  'f2d6ca16515033e5dce14eba840b979d27b5cbae24bb3e5bf484339667f86397',
  '7e8de44ea9ecf6d53415c90f5b249a8591f7abafbf7d65a2c0d855afeca3ec09',
]);

/** Upper case, lower case and digits all present: a generated base62 body of 16+ characters nearly always is. */
function mixedCase(body: string): boolean {
  return /[a-z]/.test(body) && /[A-Z]/.test(body) && /[0-9]/.test(body);
}

/** Firebase web configs carry a Google API key by design (it identifies the project; rules protect the data). */
function notFirebaseConfig(_token: string, line: string): boolean {
  return !line.includes('firebaseapp.com') && !/authDomain|messagingSenderId/.test(line);
}

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  // Stripe (https://docs.stripe.com/keys): secret and restricted keys; live or test mode. Publishable pk_ keys are
  // public by design and not listed.
  {
    id: 'stripe-live-key',
    pattern: /[rs]k_live_[0-9A-Za-z]{20,247}/g,
    class: 'live',
    tail: ALNUM,
    accept: (t) => mixedCase(t.slice(8)),
  },
  {
    id: 'stripe-test-key',
    pattern: /[rs]k_test_[0-9A-Za-z]{20,247}/g,
    class: 'test',
    tail: ALNUM,
    accept: (t) => mixedCase(t.slice(8)),
  },
  {
    id: 'stripe-webhook-secret',
    pattern: /whsec_[0-9A-Za-z]{32,64}/g,
    class: 'live',
    tail: ALNUM,
    accept: (t) => mixedCase(t.slice(6)),
  },
  // PyPI API tokens are macaroons whose base64 starts with the issuer (pypi.org, or test.pypi.org).
  { id: 'pypi-token', pattern: /pypi-AgEIcHlwaS5vcmc[0-9A-Za-z_-]{50,1000}/g, class: 'live', tail: WORD_DASH },
  { id: 'pypi-token', pattern: /pypi-AgENdGVzdC5weXBpLm9yZw[0-9A-Za-z_-]{50,1000}/g, class: 'live', tail: WORD_DASH },
  // GitLab (https://docs.gitlab.com/security/tokens/): personal/project/group access, deploy, runner tokens.
  { id: 'gitlab-token', pattern: /gl(?:pat|dt|rt|soat|cbt)-[0-9A-Za-z_-]{20,300}/g, class: 'live', tail: WORD_DASH },
  { id: 'gitlab-pipeline-trigger-token', pattern: /glptt-[0-9a-f]{40}/g, class: 'live', tail: ALNUM },
  { id: 'gitlab-runner-registration-token', pattern: /GR1348941[0-9A-Za-z_-]{20}/g, class: 'live', tail: WORD_DASH },
  // Docker Hub personal and organization access tokens.
  { id: 'docker-hub-token', pattern: /dckr_(?:pat|oat)_[0-9A-Za-z_-]{27,64}/g, class: 'live', tail: WORD_DASH },
  // Google API keys: AIza + 35. Not in a Firebase web config, where the key is public by design.
  {
    id: 'google-api-key',
    pattern: /AIza[0-9A-Za-z_-]{35}/g,
    class: 'live',
    tail: WORD_DASH,
    accept: notFirebaseConfig,
  },
  // Hugging Face user and organization tokens: hf_ / api_org_ + 34 letters.
  { id: 'huggingface-token', pattern: /hf_[A-Za-z]{34}/g, class: 'live', tail: WORD_DASH, accept: hasBothCases(3) },
  {
    id: 'huggingface-token',
    pattern: /api_org_[A-Za-z]{34}/g,
    class: 'live',
    tail: WORD_DASH,
    accept: hasBothCases(8),
  },
  // DigitalOcean personal access, OAuth and refresh tokens.
  { id: 'digitalocean-token', pattern: /do[opr]_v1_[0-9a-f]{64}/g, class: 'live', tail: ALNUM },
  // Twilio auth tokens and Mailgun keys have no distinctive prefix: only on a line that names the vendor.
  {
    id: 'twilio-auth-token',
    pattern: /[0-9a-f]{32}/g,
    class: 'live',
    tail: ALNUM,
    keyword: 'twilio',
    accept: (t) => /[a-f]/.test(t) && /[0-9]/.test(t),
  },
  { id: 'mailgun-api-key', pattern: /key-[0-9a-f]{32}/g, class: 'live', tail: ALNUM, keyword: 'mailgun' },
  {
    id: 'mailgun-api-key',
    pattern: /[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}/g,
    class: 'live',
    tail: ALNUM,
    keyword: 'mailgun',
  },
  // Heroku: the HRKU-AA platform token, or a UUID API key on a line that names Heroku.
  { id: 'heroku-api-key', pattern: /HRKU-AA[0-9A-Za-z_-]{58}/g, class: 'live', tail: WORD_DASH },
  {
    id: 'heroku-api-key',
    pattern: /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
    class: 'live',
    tail: ALNUM,
    keyword: 'heroku',
    // Heroku app ids are UUIDs too: the line must say it holds a key or token.
    accept: (_t, line) => /api[_-]?key|token|auth/i.test(line),
  },
  // Mailchimp: 32 hex and the data center.
  { id: 'mailchimp-api-key', pattern: /[0-9a-f]{32}-us[0-9]{1,2}/g, class: 'live', tail: ALNUM },
  // Telegram bot tokens: the bot's numeric id, a colon, and 35 characters that start with AA.
  {
    id: 'telegram-bot-token',
    pattern: /[0-9]{8,10}:AA[0-9A-Za-z_-]{33}/g,
    class: 'live',
    tail: WORD_DASH,
    accept: (t) => mixedCase(t.slice(t.indexOf(':') + 3)),
  },
  // A Sentry DSN with its (legacy) secret part; the public-key-only DSN is meant for browsers.
  { id: 'sentry-dsn-secret', pattern: /https:\/\/[0-9a-f]{32}:[0-9a-f]{32}@/g, class: 'live', tail: NOTHING },
  { id: 'sentry-token', pattern: /sntry[us]_[0-9A-Za-z_=+/]{64,400}/g, class: 'live', tail: BASE64 },
  // Azure storage account keys and Service Bus / Event Hubs shared access keys in connection strings.
  { id: 'azure-storage-account-key', pattern: /AccountKey=[0-9A-Za-z+/]{86}==/g, class: 'live', tail: BASE64 },
  { id: 'azure-shared-access-key', pattern: /SharedAccessKey=[0-9A-Za-z+/]{43}=/g, class: 'live', tail: BASE64 },
  // Payment, infrastructure and SaaS tokens with documented prefixes.
  { id: 'square-token', pattern: /sq0(?:atp|csp)-[0-9A-Za-z_-]{22,60}/g, class: 'live', tail: WORD_DASH },
  {
    id: 'braintree-access-token',
    pattern: /access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32}/g,
    class: 'live',
    tail: ALNUM,
  },
  { id: 'age-secret-key', pattern: /AGE-SECRET-KEY-1[0-9A-Z]{58}/g, class: 'live', tail: ALNUM },
  { id: 'vault-token', pattern: /hv[sb]\.[0-9A-Za-z_-]{90,300}/g, class: 'live', tail: WORD_DASH },
  { id: 'databricks-token', pattern: /dapi[0-9a-f]{32}/g, class: 'live', tail: ALNUM },
  { id: 'newrelic-api-key', pattern: /NRAK-[0-9A-Z]{27}/g, class: 'live', tail: ALNUM },
  { id: 'grafana-token', pattern: /glsa_[0-9A-Za-z]{32}_[0-9a-f]{8}/g, class: 'live', tail: ALNUM },
  { id: 'postman-api-key', pattern: /PMAK-[0-9a-f]{24}-[0-9a-f]{34}/g, class: 'live', tail: ALNUM },
  { id: 'pulumi-token', pattern: /pul-[0-9a-f]{40}/g, class: 'live', tail: ALNUM },
  { id: 'supabase-token', pattern: /sbp_[0-9a-f]{40}/g, class: 'live', tail: ALNUM },
  { id: 'doppler-token', pattern: /dp\.(?:pt|st|sa|ct)\.[0-9A-Za-z]{40,44}/g, class: 'live', tail: ALNUM },
  { id: 'atlassian-api-token', pattern: /ATATT3[0-9A-Za-z_=-]{186}/g, class: 'live', tail: WORD_DASH },
  { id: 'brevo-api-key', pattern: /xkeysib-[0-9a-f]{64}-[0-9A-Za-z]{16}/g, class: 'live', tail: ALNUM },
  { id: 'rubygems-api-key', pattern: /rubygems_[0-9a-f]{48}/g, class: 'live', tail: ALNUM },
  {
    id: 'alibaba-access-key-id',
    pattern: /LTAI[0-9A-Za-z]{20}/g,
    class: 'live',
    tail: ALNUM,
    accept: mixedCaseBody(4),
  },
  {
    id: 'discord-webhook',
    pattern: /discord(?:app)?\.com\/api\/webhooks\/[0-9]{17,20}\/[0-9A-Za-z_-]{60,68}/g,
    class: 'live',
    tail: WORD_DASH,
  },
  // Also in secretlint's preset; here for scanEnvFile and binaries.
  { id: 'aws-access-key-id', pattern: /(?:AKIA|ASIA)[0-9A-Z]{16}/g, class: 'live', tail: ALNUM },
  { id: 'github-token', pattern: /gh[pousr]_[0-9A-Za-z]{36}/g, class: 'live', tail: /[0-9A-Za-z_]/ },
  { id: 'github-token', pattern: /github_pat_[0-9A-Za-z_]{82}/g, class: 'live', tail: /[0-9A-Za-z_]/ },
  { id: 'slack-token', pattern: /xox[abposr]-[0-9]{6,13}-[0-9A-Za-z-]{10,200}/g, class: 'live', tail: WORD_DASH },
  { id: 'npm-token', pattern: /npm_[0-9A-Za-z]{36}/g, class: 'live', tail: /[0-9A-Za-z_]/ },
  { id: 'sendgrid-api-key', pattern: /SG\.[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{43}/g, class: 'live', tail: WORD_DASH },
  { id: 'openai-api-key', pattern: /sk-(?:proj|svcacct|admin)-[0-9A-Za-z_-]{40,300}/g, class: 'live', tail: WORD_DASH },
  {
    id: 'anthropic-api-key',
    pattern: /sk-ant-(?:api|admin)0[0-9]-[0-9A-Za-z_-]{80,200}/g,
    class: 'live',
    tail: WORD_DASH,
  },
];

function hasBothCases(prefix: number): (token: string) => boolean {
  return (token) => /[a-z]/.test(token.slice(prefix)) && /[A-Z]/.test(token.slice(prefix));
}
function mixedCaseBody(prefix: number): (token: string) => boolean {
  return (token) => mixedCase(token.slice(prefix));
}

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

function lineAround(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return text.slice(start, end === -1 ? text.length : end);
}

/** Every credential of a known format in `text`, documented examples and placeholders excepted. */
export function findCredentials(text: string): CredentialMatch[] {
  const found: CredentialMatch[] = [];
  let lower: string | undefined;
  for (const rule of SECRET_PATTERNS) {
    if (rule.keyword) {
      lower ??= text.toLowerCase();
      if (!lower.includes(rule.keyword)) continue;
    }
    rule.pattern.lastIndex = 0;
    for (const match of text.matchAll(rule.pattern)) {
      const token = match[0];
      const before = text[match.index - 1] ?? '';
      const after = text[match.index + token.length] ?? '';
      if (ALNUM.test(before) || rule.tail.test(after)) continue;
      if (isPlaceholderToken(token)) continue;
      if (rule.keyword || rule.accept) {
        const line = lineAround(text, match.index);
        if (rule.keyword && !line.toLowerCase().includes(rule.keyword)) continue;
        if (rule.accept && !rule.accept(token, line)) continue;
      }
      found.push({ rule: rule.id, class: rule.class, index: match.index, length: token.length });
    }
  }
  return found.sort((a, b) => a.index - b.index);
}
