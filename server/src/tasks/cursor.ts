/**
 * The list's keyset cursor (`after=`): where the previous page ended, sealed with AES-256-GCM under a key derived
 * from SECRET_KEY. Sealed rather than only signed, so a cursor in a URL or a log shows nothing of the last task's
 * title. The associated data binds it to the account, the sort and the filters: used by another account, with another
 * sort or filter, or edited by one bit, it fails to open and the route answers 400. It holds only the last row's sort
 * key and id, so the next page starts right after that row whatever was inserted or deleted in between.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** The sort key of the last row: a date (or 'infinity') for `due`, the folded title for `title`, none otherwise. */
export interface CursorPosition {
  key: string | null;
  id: number;
}

/** What a cursor is bound to, besides the account: everything that decides which rows come in which order. */
export interface CursorScope {
  userId: number;
  sort: string;
  filters: Record<string, string | undefined>;
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class CursorSealer {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    // A key of its own, so a cursor can never be confused with a token hash made under SECRET_KEY.
    this.key = Buffer.from(hkdfSync('sha256', secretKey, '', 'ironclad-tasks list cursor v1', 32));
  }

  seal(scope: CursorScope, position: CursorPosition): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(associatedData(scope));
    const body = Buffer.concat([cipher.update(JSON.stringify([position.key, position.id]), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The position, or undefined when the cursor is not one this server made for this account, sort and filters. */
  open(scope: CursorScope, cursor: string): CursorPosition | undefined {
    const raw = Buffer.from(cursor, 'base64url');
    // base64url decoding skips characters it does not know; only a cursor that re-encodes to itself is taken.
    if (raw.toString('base64url') !== cursor) return undefined;
    if (raw.length < 1 + IV_BYTES + TAG_BYTES + 1 || raw[0] !== VERSION) return undefined;
    const iv = raw.subarray(1, 1 + IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES);
    let text: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(scope));
      decipher.setAuthTag(tag);
      text = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
    // Authentic, so made by seal(); still checked, so that a change to seal() cannot turn into a 500 here.
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
    const [key, id] = parsed as unknown[];
    if ((key !== null && typeof key !== 'string') || !Number.isSafeInteger(id)) return undefined;
    return { key: key as string | null, id: id as number };
  }
}

function associatedData({ userId, sort, filters }: CursorScope): Buffer {
  const entries = Object.entries(filters)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return Buffer.from(JSON.stringify([VERSION, userId, sort, entries]), 'utf8');
}
