/** The JSON body of every error answer, as published in the OpenAPI document (components.schemas.ErrorBody). */
export const ERROR_BODY_SCHEMA = {
  type: 'object' as const,
  required: ['error'],
  properties: {
    error: {
      type: 'string' as const,
      description: 'One sentence for a person; never a stack trace or a database message.',
    },
    fields: {
      type: 'object' as const,
      additionalProperties: { type: 'string' as const },
      description: 'Per-field problems of a 400 or 409, keyed by field (or parameter/header) name.',
    },
    allowed: {
      type: 'array' as const,
      items: { type: 'string' as const },
      description: 'On a 405: the methods the path allows.',
    },
    retry_after: {
      type: 'integer' as const,
      description: 'On a 429: seconds until the limit that refused the request lets it through (also `Retry-After`).',
    },
    limit: {
      type: 'integer' as const,
      description: 'On the 409 of a create past the task quota: how many tasks an account may hold.',
    },
    detail: {
      type: 'string' as const,
      description:
        'On the 400 of a list cursor (`after`) that is not valid here: why. With DEBUG on, a 500 names the error.',
    },
    status: { type: 'string' as const, description: 'On /readyz: `unavailable` while the database cannot be reached.' },
  },
};
