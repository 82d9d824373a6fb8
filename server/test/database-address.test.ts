import { describe, expect, it } from 'vitest';
import { databaseAddress } from '../src/lifecycle/database-address.js';
import { configFor, STRONG_KEY } from './helpers.js';

describe('databaseAddress (named in start-up errors)', () => {
  it('names host and port and the settings they came from, never the user or the password', () => {
    const fromParts = configFor({
      POSTGRES_DB: 'tasks',
      DB_HOST: 'db',
      POSTGRES_PASSWORD: 'pw-9f3k-secret',
      SECRET_KEY: STRONG_KEY,
    });
    expect(databaseAddress(fromParts)).toBe('db:5432 (DB_HOST, DB_PORT)');
    const fromUrl = configFor({
      DATABASE_URL: 'postgres://tasks:pw-9f3k-secret@pg.internal:6432/tasks',
      SECRET_KEY: STRONG_KEY,
    });
    expect(databaseAddress(fromUrl)).toBe('pg.internal:6432 (from DATABASE_URL)');
    expect(databaseAddress(fromUrl)).not.toContain('pw-9f3k');
    expect(databaseAddress(configFor({ DATA_DIR: 'memory://' }))).toBe('the embedded database');
  });
});
