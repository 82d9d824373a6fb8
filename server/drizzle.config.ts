import { defineConfig } from 'drizzle-kit';

// Only `generate` is used: migrations are applied by the server itself (src/db/migrate.ts),
// because drizzle-kit cannot drive the embedded PGlite database.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
