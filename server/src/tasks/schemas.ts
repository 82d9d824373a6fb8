import { Type } from 'typebox';
import { Timestamp } from '../http/schemas.js';
import { FORBIDDEN, FORBIDDEN_MULTILINE } from '../rules/text.js';

export { TASK_DESCRIPTION_MAX as DESCRIPTION_MAX, TASK_TITLE_MAX as TITLE_MAX } from '../rules/limits.js';

import {
  TASK_DESCRIPTION_MAX as DESCRIPTION_MAX,
  IDEMPOTENCY_KEY_MAX,
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

export const TaskInput = Type.Object(
  { title: Title, description: Type.Optional(Description), completed: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const TaskPatch = Type.Object(
  { title: Type.Optional(Title), description: Type.Optional(Description), completed: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const Task = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  description: Type.String(),
  completed: Type.Boolean(),
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

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIST_LIMIT_MAX, default: LIST_LIMIT_DEFAULT })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 })),
  completed: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
});
