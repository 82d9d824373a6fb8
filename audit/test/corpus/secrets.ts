/**
 * The corpus's secret generator. Every credential a corpus repository holds is made here at generation
 * time from a seeded PRNG (so a repository's bytes, and its commit ids, are the same on every run) and
 * assembled from pieces (so no literal credential exists in this source, which the repository's own
 * audit and GitHub push protection both read). Each value is recorded, so the scorer can prove that no
 * part of it reaches the auditor's output. A private key is the one exception to determinism: Node
 * cannot derive an RSA key from a seed, so it is fresh on every run (the layout around it is fixed).
 */
import { generateKeyPairSync } from 'node:crypto';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const BASE64URL = `${ALNUM}-_`;
// Django's get_random_secret_key() alphabet.
const DJANGO = `${LOWER}${DIGITS}!@#$%^&*(-_=+)`;

/** FNV-1a: a stable 32-bit seed from a repository's name. */
function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** mulberry32: small, fast and good enough to make keys look random; not for real keys. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PlantedSecret {
  /** What kind of credential, for the report. */
  kind: string;
  /** The whole value as written into the repository. */
  value: string;
  /** Its random part: the public prefix (`sk_live_`, `AKIA`) is not secret, and 8-character windows are taken here. */
  random: string;
}

export class SecretGen {
  private readonly next: () => number;
  readonly planted: PlantedSecret[] = [];

  constructor(name: string) {
    this.next = mulberry32(seedOf(`ironclad-corpus/1:${name}`));
  }

  /** `length` characters of `alphabet`; guarantees upper, lower and digit for alphanumeric alphabets. */
  chars(length: number, alphabet: string = ALNUM): string {
    for (;;) {
      let out = '';
      for (let i = 0; i < length; i += 1) out += alphabet[Math.floor(this.next() * alphabet.length)];
      const mixed = /[A-Z]/.test(out) && /[a-z]/.test(out) && /[0-9]/.test(out);
      if (mixed || !/[A-Z]/.test(alphabet) || !/[a-z]/.test(alphabet) || length < 12) return out;
    }
  }

  private plant(kind: string, prefix: string, random: string, suffix = ''): string {
    const value = prefix + random + suffix;
    this.planted.push({ kind, value, random });
    return value;
  }

  /** A random secret of `length` base62 characters (a password, a session secret, an API key). */
  secret(length = 40, kind = 'random secret'): string {
    return this.plant(kind, '', this.chars(length));
  }

  /** A database password as people make them: letters and digits, 20 long. */
  password(): string {
    return this.secret(20, 'password');
  }

  /** Django's generated key shape: `django-insecure-` + 50 characters. */
  djangoKey(insecurePrefix = true): string {
    return this.plant('django SECRET_KEY', insecurePrefix ? 'django-' + 'insecure-' : '', this.chars(50, DJANGO));
  }

  awsKeyId(): string {
    return this.plant('AWS access key id', 'AK' + 'IA', this.chars(16, UPPER + DIGITS));
  }

  awsSecretKey(): string {
    return this.plant('AWS secret access key', '', this.chars(40, `${ALNUM}+/`));
  }

  stripeLive(): string {
    return this.plant('Stripe live key', 'sk_' + 'live_', this.chars(24));
  }

  stripeTest(): string {
    return this.plant('Stripe test key', 'sk_' + 'test_', this.chars(24));
  }

  github(): string {
    return this.plant('GitHub token', 'gh' + 'p_', this.chars(36));
  }

  /** npm's granular/automation token shape: `npm_` + 36. */
  npmToken(): string {
    return this.plant('npm token', 'np' + 'm_', this.chars(36));
  }

  pypi(): string {
    return this.plant('PyPI token', 'pypi-' + 'AgEIcHlwaS5vcmc', this.chars(70, BASE64URL));
  }

  slackBot(): string {
    const digits = () => this.chars(11, DIGITS);
    return this.plant('Slack bot token', `xox${'b'}-${digits()}-${digits()}-`, this.chars(24));
  }

  /** A fresh RSA key in PKCS#1 PEM (secretlint checks that a key block is well formed). */
  privateKey(): string {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const body = pem.split('\n').filter((line) => line && !line.startsWith('-----'));
    this.planted.push({ kind: 'private key', value: pem, random: body.join('') });
    return pem;
  }
}

/**
 * Fake values that are public on purpose (AWS's documented example credentials): assembled too, because
 * a scanner that does not know them would stop this file.
 */
export const PUBLIC_EXAMPLES = {
  awsKeyId: 'AK' + 'IA' + 'IOSFODNN7' + 'EXAMPLE',
  awsSecretKey: 'wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCY' + 'EXAMPLEKEY',
} as const;
