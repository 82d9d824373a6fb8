/**
 * The web client's API types are generated from this server's OpenAPI document (scripts/gen-api-types.mjs):
 * a route schema change that is not regenerated fails here instead of in a user's browser.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const COMMITTED = resolve(import.meta.dirname, '../../client/src/api/schema.d.ts');

describe('client/src/api/schema.d.ts', () => {
  it('is what `npm run gen:api` makes from the current route schemas', async () => {
    // @ts-expect-error: a plain .mjs script without type declarations
    const { renderApiTypes } = await import('../../scripts/gen-api-types.mjs');
    const fresh: string = await renderApiTypes();
    expect(fresh).toContain('"/api/v1/tasks/{id}/"');
    expect(fresh).toContain('ErrorBody');
    expect(readFileSync(COMMITTED, 'utf8'), 'stale: run `npm run gen:api`').toBe(fresh);
  });
});
