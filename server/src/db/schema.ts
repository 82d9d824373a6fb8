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
  date,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/pg-core';
import {
  EMAIL_MAX_LENGTH,
  IDEMPOTENCY_KEY_MAX,
  IP_MAX_LENGTH,
  SESSION_CLIENT_MAX,
  TASK_DESCRIPTION_MAX,
  TASK_TITLE_MAX,
} from '../rules/limits.js';

export const users = pgTable(
  'users',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    email: varchar('email', { length: EMAIL_MAX_LENGTH }).notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** When the password was last set: a reset asked for before it is void (email/outbox.ts). */
    passwordChangedAt: timestamp('password_changed_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
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
    /** Updated at most once a minute per session (users/sessions.ts), so reads stay reads. */
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** The browser or client that made it, without control characters and cut to SESSION_CLIENT_MAX. */
    userAgent: varchar('user_agent', { length: SESSION_CLIENT_MAX }),
    ip: varchar('ip', { length: IP_MAX_LENGTH }),
    /**
     * Set when the session is ended by anything but its own logout: the row stays, unusable, until it would have
     * expired, so the browser that held it can be told why (users/session-end.ts).
     */
    endedAt: timestamp('ended_at', { withTimezone: true, precision: 3 }),
    endReason: varchar('end_reason', { length: 32 }),
  },
  (table) => [
    index('sessions_user_id_idx').on(table.userId),
    index('sessions_expires_at_idx').on(table.expiresAt),
    check('sessions_end_reason', sql`(${table.endedAt} IS NULL) = (${table.endReason} IS NULL)`),
  ],
);

/** At most one live reset link per account: asking again replaces it; using it, or any password change, deletes it. */
export const passwordResets = pgTable('password_resets', {
  userId: bigint('user_id', { mode: 'number' })
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  /** Keyed hash of the token, like sessions.token_hash; the token itself only ever exists in the email. */
  tokenHash: varchar('token_hash', { length: 64 }).notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
});

/** What happened to an account (GET /users/activity/): kept ACTIVITY_RETENTION, the newest ACTIVITY_MAX_ROWS. */
export const securityEvents = pgTable(
  'security_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: varchar('kind', { length: 40 }).notNull(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    ip: varchar('ip', { length: IP_MAX_LENGTH }),
    userAgent: varchar('user_agent', { length: SESSION_CLIENT_MAX }),
  },
  (table) => [index('security_events_user_id_id_idx').on(table.userId, table.id)],
);

/**
 * Emails to send, written in the transaction of what caused them and deleted once the relay took them
 * (email/outbox.ts). A reset request is stored by address only, never with a token: the drainer looks the account
 * up and makes the token when it sends, so the request costs the same whether or not the address has an account.
 */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    kind: varchar('kind', { length: 40 }).notNull(),
    /** Set for notices about an account; a reset request names only an address. */
    userId: bigint('user_id', { mode: 'number' }).references(() => users.id, { onDelete: 'cascade' }),
    recipient: varchar('recipient', { length: EMAIL_MAX_LENGTH }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** Who caused it, for the email's "asked from" line and the activity entry. */
    ip: varchar('ip', { length: IP_MAX_LENGTH }),
    userAgent: varchar('user_agent', { length: SESSION_CLIENT_MAX }),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** A drainer that claimed the row owns it until then (several server processes share the table). */
    lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 3 }),
    lastError: varchar('last_error', { length: 200 }),
  },
  (table) => [index('email_outbox_next_attempt_at_idx').on(table.nextAttemptAt)],
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
    /** A calendar date, no time and no zone: PostgreSQL `date`, read and written as `YYYY-MM-DD`. */
    dueOn: date('due_on', { mode: 'string' }),
    /**
     * Title and description folded for search (ironclad_fold: unaccent, then a fixed Unicode lower-case map, the same
     * on every database whatever its locale), joined by a newline: a search (which cannot hold a newline) never
     * matches across the two. Computed by the database, so no row can disagree with its text.
     */
    search: text('search').notNull().generatedAlwaysAs(sql`ironclad_fold("title" || E'\\n' || "description")`),
  },
  (table) => [
    index('tasks_user_id_id_idx').on(table.userId, table.id),
    // The `due` sort: undated last as the date 'infinity', which sorts after every real date.
    index('tasks_user_id_due_idx').on(table.userId, sql`(coalesce(${table.dueOn}, 'infinity'::date))`, table.id),
    // The `title` sort: folded (accents and case ignored), in code point order so every database agrees, capped so
    // that a cursor holding the key stays short.
    index('tasks_user_id_title_idx').on(
      table.userId,
      sql`(left(ironclad_fold(${table.title}), 255) COLLATE "C")`,
      table.id,
    ),
    // Substring search: trigrams of the folded text.
    index('tasks_search_trgm_idx').using('gin', sql`${table.search} gin_trgm_ops`),
    check('tasks_due_on_range', sql`${table.dueOn} BETWEEN '1900-01-01' AND '9999-12-31'`),
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
