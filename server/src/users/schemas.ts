import { Type } from 'typebox';
import { Timestamp } from '../http/schemas.js';
import { NO_FORBIDDEN } from '../rules/text.js';
import { EMAIL_MAX_LENGTH } from './email.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.js';

export const Email = Type.String({
  format: 'email',
  maxLength: EMAIL_MAX_LENGTH,
  pattern: NO_FORBIDDEN,
  errorMessage: `must be a valid email address (at most ${EMAIL_MAX_LENGTH} characters)`,
  examples: ['ada@example.com'],
});

export const SignupBody = Type.Object(
  {
    email: Email,
    password: Type.String({
      minLength: PASSWORD_MIN_LENGTH,
      maxLength: PASSWORD_MAX_LENGTH,
      pattern: NO_FORBIDDEN,
      errorMessage: `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters without control characters`,
    }),
  },
  { additionalProperties: false },
);

// At login, any length is "wrong credentials", not a policy lesson.
export const LoginBody = Type.Object(
  {
    email: Type.String({
      minLength: 1,
      maxLength: EMAIL_MAX_LENGTH,
      pattern: NO_FORBIDDEN,
      errorMessage: 'must be an email address',
    }),
    password: Type.String({
      minLength: 1,
      maxLength: PASSWORD_MAX_LENGTH,
      pattern: NO_FORBIDDEN,
      errorMessage: `must be 1 to ${PASSWORD_MAX_LENGTH} characters without control characters`,
    }),
  },
  { additionalProperties: false },
);

// `token` is left out for browsers, which get it only in the HttpOnly cookie (session-cookie.ts).
export const TokenResponse = Type.Object({ token: Type.Optional(Type.String()), email: Type.String() });

export const UserInfo = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  created_at: Timestamp,
});
