/**
 * What the web client knows of the API is generated from this server's OpenAPI document (scripts/gen-api-types.mjs):
 * its types (client/src/api/schema.d.ts) and the limits it respects (client/src/api/limits.ts). A route schema change
 * that is not regenerated fails here instead of in a user's browser.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DESCRIPTION_MAX, LIST_LIMIT_MAX, TITLE_MAX } from '../src/tasks/schemas.js';
import { EMAIL_MAX_LENGTH } from '../src/users/email.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../src/users/passwords.js';

const API = resolve(import.meta.dirname, '../../client/src/api');

describe('client/src/api/{schema.d.ts,limits.ts}', () => {
  it('are what `npm run gen:api` makes from the current route schemas', async () => {
    // @ts-expect-error: a plain .mjs script without type declarations
    const { renderClientFiles } = await import('../../scripts/gen-api-types.mjs');
    const fresh: Record<string, string> = await renderClientFiles();
    expect(fresh['schema.d.ts']).toContain('"/api/v1/tasks/{id}/"');
    expect(fresh['schema.d.ts']).toContain('ErrorBody');
    // The limits are the server's own constants, read back from the document its route schemas make.
    for (const [name, value] of Object.entries({
      TASK_TITLE_MAX: TITLE_MAX,
      TASK_DESCRIPTION_MAX: DESCRIPTION_MAX,
      LIST_LIMIT_MAX,
      EMAIL_MAX: EMAIL_MAX_LENGTH,
      PASSWORD_MIN: PASSWORD_MIN_LENGTH,
      PASSWORD_MAX: PASSWORD_MAX_LENGTH,
    })) {
      expect(fresh['limits.ts']).toContain(`export const ${name} = ${value};`);
    }
    for (const file of ['schema.d.ts', 'limits.ts']) {
      expect(readFileSync(resolve(API, file), 'utf8'), `${file} is stale: run \`npm run gen:api\``).toBe(fresh[file]);
    }
  });
});
