/**
 * Tables. Every rule the API enforces on stored data is also a database
 * constraint, so a bug above cannot store what the API promises it won't.
 * After editing: `npm run generate -w server` and commit the new migration.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/pg-core';
import { EMAIL_MAX_LENGTH, IDEMPOTENCY_KEY_MAX, TASK_DESCRIPTION_MAX, TASK_TITLE_MAX } from '../rules/limits.js';

export const users = pgTable(
  'users',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    email: varchar('email', { length: EMAIL_MAX_LENGTH }).notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [
    check('users_email_normalized', sql`${table.email} = lower(btrim(${table.email})) AND ${table.email} LIKE '_%@_%'`),
  ],
);

export const sessions = pgTable(
  'sessions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** HMAC-SHA256(SECRET_KEY, token), hex. The token itself is never stored. */
    tokenHash: varchar('token_hash', { length: 64 }).notNull().unique(),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (table) => [index('sessions_user_id_idx').on(table.userId), index('sessions_expires_at_idx').on(table.expiresAt)],
);

export const tasks = pgTable(
  'tasks',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: varchar('title', { length: TASK_TITLE_MAX }).notNull(),
    description: text('description').notNull().default(''),
    completed: boolean('completed').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** Client-chosen key of the create request, so a retried POST creates the task once. */
    idempotencyKey: varchar('idempotency_key', { length: IDEMPOTENCY_KEY_MAX }),
  },
  (table) => [
    index('tasks_user_id_id_idx').on(table.userId, table.id),
    uniqueIndex('tasks_user_id_idempotency_key_idx').on(table.userId, table.idempotencyKey),
    check(
      'tasks_title_length',
      sql`char_length(btrim(${table.title})) BETWEEN 1 AND ${sql.raw(String(TASK_TITLE_MAX))} AND ${table.title} = btrim(${table.title})`,
    ),
    check('tasks_title_no_control', sql`${table.title} !~ '[\\x01-\\x1f\\x7f-\\x9f]'`),
    check(
      'tasks_description_length',
      sql`char_length(${table.description}) <= ${sql.raw(String(TASK_DESCRIPTION_MAX))}`,
    ),
    check('tasks_description_no_control', sql`${table.description} !~ '[\\x01-\\x08\\x0b-\\x1f\\x7f-\\x9f]'`),
  ],
);

/** Shared rate-limit counters, so several server processes enforce one limit. */
export const rateLimits = pgTable('rate_limits', {
  key: varchar('key', { length: 128 }).primaryKey(),
  hits: integer('hits').notNull(),
  resetAt: timestamp('reset_at', { withTimezone: true, precision: 3 }).notNull(),
});
