import { Type } from 'typebox';
import { Timestamp } from '../http/schemas.js';
import { FORBIDDEN, FORBIDDEN_MULTILINE } from '../rules/text.js';

export { TASK_DESCRIPTION_MAX as DESCRIPTION_MAX, TASK_TITLE_MAX as TITLE_MAX } from '../rules/limits.js';

import {
  BULK_IDS_MAX,
  CURSOR_MAX,
  TASK_DESCRIPTION_MAX as DESCRIPTION_MAX,
  IDEMPOTENCY_KEY_MAX,
  TASK_SEARCH_MAX,
  TASK_SEARCH_SENT_MAX,
  TASK_TITLE_MAX as TITLE_MAX,
} from '../rules/limits.js';
export const LIST_LIMIT_DEFAULT = 100;
export const LIST_LIMIT_MAX = 500;

// A title needs one visible character and no control characters; surrounding spaces are trimmed on save.
// Written so that it runs in linear time: the lookahead only scans leading white space, and the rest is one
// character class. (The earlier `^[^F]*[^\sF][^F]*$` backtracked quadratically: a 64 KiB title of one repeated
// letter ending in a control character took 4 s to refuse. test/regex-budget.test.ts times every route pattern.)
const Title = Type.String({
  minLength: 1,
  maxLength: TITLE_MAX,
  pattern: `^(?!\\s*$)[^${FORBIDDEN}]*$`,
  errorMessage: `A title needs 1 to ${TITLE_MAX} characters, not only spaces, and cannot contain invisible control characters.`,
});
// Newline and tab are fine in a description; other control characters are not.
const Description = Type.String({
  maxLength: DESCRIPTION_MAX,
  pattern: `^[^${FORBIDDEN_MULTILINE}]*$`,
  errorMessage: `Details can be at most ${DESCRIPTION_MAX} characters and cannot contain invisible control characters (new lines and tabs are fine).`,
});

/**
 * A calendar date, no time and no time zone: `YYYY-MM-DD` of a real day (format `date` refuses 2026-02-30), years
 * 1900 to 9999 (the pattern; the database's CHECK says the same). The pattern is anchored fixed-width: linear.
 */
const CalendarDate = Type.String({
  format: 'date',
  pattern: '^(19[0-9]{2}|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}$',
  errorMessage: 'must be a date YYYY-MM-DD between 1900-01-01 and 9999-12-31',
});
/** `due_on` in a body: a date, or null to clear it. */
const DueOn = Type.Union([CalendarDate, Type.Null()], {
  errorMessage: 'must be a date YYYY-MM-DD between 1900-01-01 and 9999-12-31, or null',
});

export const TaskInput = Type.Object(
  {
    title: Title,
    description: Type.Optional(Description),
    completed: Type.Optional(Type.Boolean()),
    due_on: Type.Optional(DueOn),
  },
  { additionalProperties: false },
);

export const TaskPatch = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    completed: Type.Optional(Type.Boolean()),
    due_on: Type.Optional(DueOn),
  },
  { additionalProperties: false },
);

export const Task = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  description: Type.String(),
  completed: Type.Boolean(),
  /** A calendar date `YYYY-MM-DD`, or null: no due date. */
  due_on: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const CreateHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: IDEMPOTENCY_KEY_MAX,
      pattern: '^[\\x21-\\x7E]+$',
      errorMessage: 'An Idempotency-Key is 1 to 100 visible ASCII characters.',
    }),
  ),
});

export const TaskParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

export const SORTS = ['oldest', 'newest', 'due', 'title'] as const;
export type Sort = (typeof SORTS)[number];

const TrueOrFalse = Type.Union([Type.Literal('true'), Type.Literal('false')]);

/** The rule for `q`, in the words of both its checks (the schema's on the text as sent, the route's once trimmed). */
export const SEARCH_RULE = `must be 1 to ${TASK_SEARCH_MAX} characters once surrounding spaces are trimmed (at most ${TASK_SEARCH_SENT_MAX} as sent), without control characters`;

/**
 * Search text: matched as a plain substring of title or description (case- and accent-insensitive), so `%`, `_` and
 * `\` are literal. The schema bounds the text as sent (TASK_SEARCH_SENT_MAX) and refuses control characters; the
 * route trims it and requires 1 to TASK_SEARCH_MAX characters, so surrounding spaces never count. A pattern cannot
 * say "at most 200 once trimmed" without overlapping quantifiers that backtrack; the length check is plain code.
 * `x-trimmed-max-length` states that limit in the OpenAPI document (the client's limits.ts is generated from it).
 */
const Search = Type.String({
  minLength: 1,
  maxLength: TASK_SEARCH_SENT_MAX,
  'x-trimmed-max-length': TASK_SEARCH_MAX,
  pattern: `^[^${FORBIDDEN}]*$`,
  errorMessage: SEARCH_RULE,
  description: `Only tasks whose title or description contains this text (case- and accent-insensitive): 1 to ${TASK_SEARCH_MAX} characters once surrounding spaces are trimmed, at most ${TASK_SEARCH_SENT_MAX} as sent.`,
});

/** The caller's calendar date; overdue means open with due_on before it. Default: the server's UTC date. */
const Today = Type.String({
  format: 'date',
  pattern: '^(19[0-9]{2}|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}$',
  errorMessage: 'must be a date YYYY-MM-DD between 1900-01-01 and 9999-12-31',
  description: "The caller's local date, for `overdue` (default: the server's UTC date).",
});

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIST_LIMIT_MAX, default: LIST_LIMIT_DEFAULT })),
  offset: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 2_147_483_647,
      default: 0,
      description: 'Kept for compatibility; not combinable with `after`.',
    }),
  ),
  completed: Type.Optional(TrueOrFalse),
  sort: Type.Optional(
    Type.Union(
      SORTS.map((sort) => Type.Literal(sort)),
      {
        default: 'oldest',
        description:
          'oldest (id ascending, the default), newest (id descending), due (due date ascending, undated last, then id), title (case-insensitive, then id)',
      },
    ),
  ),
  q: Type.Optional(Search),
  overdue: Type.Optional(
    Type.Union([Type.Literal('true'), Type.Literal('false')], {
      description: 'true: only open tasks due before `today`.',
    }),
  ),
  today: Type.Optional(Today),
  after: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: CURSOR_MAX,
      pattern: '^[A-Za-z0-9_-]+$',
      errorMessage: 'is not a valid cursor',
      description: 'The cursor from the previous page\'s `Link: <…>; rel="next"` header.',
    }),
  ),
});

export const CountsQuery = Type.Object({
  today: Type.Optional(Today),
  q: Type.Optional(Search),
});

export const Counts = Type.Object({
  all: Type.Integer({ minimum: 0 }),
  open: Type.Integer({ minimum: 0 }),
  done: Type.Integer({ minimum: 0 }),
  overdue: Type.Integer({ minimum: 0 }),
});

export const BULK_ACTIONS = ['complete', 'reopen', 'delete', 'clear_completed'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

/**
 * One object rather than a union per action, so that a mistake is a 400 naming the field: `ids` is required by
 * complete, reopen and delete and refused with clear_completed (the route checks that pairing).
 */
export const BulkInput = Type.Object(
  {
    action: Type.Union(
      BULK_ACTIONS.map((action) => Type.Literal(action)),
      { errorMessage: `must be one of ${BULK_ACTIONS.join(', ')}` },
    ),
    ids: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), {
        minItems: 1,
        maxItems: BULK_IDS_MAX,
        uniqueItems: true,
        description: `1 to ${BULK_IDS_MAX} distinct task ids (complete, reopen, delete); not with clear_completed.`,
        // Each answer says which rule failed and states the whole rule.
        errorMessage: {
          minItems: `is empty: list 1 to ${BULK_IDS_MAX} different task ids`,
          maxItems: `lists more than ${BULK_IDS_MAX} ids: list 1 to ${BULK_IDS_MAX} different task ids (send more in several requests)`,
          uniqueItems: `lists a task id more than once: list 1 to ${BULK_IDS_MAX} different task ids`,
        },
      }),
    ),
  },
  { additionalProperties: false },
);

export const BulkResult = Type.Object({
  action: Type.Union(BULK_ACTIONS.map((action) => Type.Literal(action))),
  /** The ids this request changed: ids already in the target state, gone, or not the caller's are left out. */
  changed: Type.Array(Type.Integer()),
  count: Type.Integer({ minimum: 0 }),
});

/**
 * The list's response headers, as @fastify/swagger reads them for OpenAPI 3: `headers` on a response schema, one
 * schema per header name, becomes the response's `headers` in the document (the serializer ignores the keyword).
 */
export const ListResponseHeaders = {
  Link: Type.String({
    description:
      'Sent when more tasks may follow: `<same path and query with after=CURSOR>; rel="next"` (RFC 8288). Absent on the last page.',
  }),
};
