import { Type } from 'typebox';
import { Timestamp } from '../http/schemas.js';
import { NO_FORBIDDEN } from '../rules/text.js';
import { EMAIL_MAX_LENGTH, EMAIL_PATTERN } from './email.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.js';

export const Email = Type.String({
  format: 'email',
  maxLength: EMAIL_MAX_LENGTH,
  pattern: EMAIL_PATTERN,
  errorMessage: `Enter a valid email address, like name@example.com (at most ${EMAIL_MAX_LENGTH} characters).`,
  examples: ['ada@example.com'],
});

export const SignupBody = Type.Object(
  {
    email: Email,
    password: Type.String({
      minLength: PASSWORD_MIN_LENGTH,
      maxLength: PASSWORD_MAX_LENGTH,
      pattern: NO_FORBIDDEN,
      errorMessage: `A password needs ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters and cannot contain invisible control characters.`,
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
      errorMessage: 'Enter your email address.',
    }),
    password: Type.String({
      minLength: 1,
      maxLength: PASSWORD_MAX_LENGTH,
      pattern: NO_FORBIDDEN,
      errorMessage: `Enter your password (at most ${PASSWORD_MAX_LENGTH} characters, without invisible control characters).`,
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

const NewPassword = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  pattern: NO_FORBIDDEN,
  errorMessage: `A password needs ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters and cannot contain invisible control characters.`,
});

// The password a person already has: any length is "wrong", never a policy lesson (like LoginBody).
const CurrentPassword = Type.String({
  minLength: 1,
  maxLength: PASSWORD_MAX_LENGTH,
  pattern: NO_FORBIDDEN,
  errorMessage: `Enter your password (at most ${PASSWORD_MAX_LENGTH} characters, without invisible control characters).`,
});

export const PasswordChangeBody = Type.Object(
  { current_password: CurrentPassword, new_password: NewPassword },
  { additionalProperties: false },
);

export const PasswordResetBody = Type.Object({ email: Email }, { additionalProperties: false });

export const PasswordResetConfirmBody = Type.Object(
  {
    // Any short printable text: a malformed token is "invalid or expired" like any other bad link.
    token: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: NO_FORBIDDEN,
      errorMessage: 'This is not the code from a reset link.',
    }),
    new_password: NewPassword,
  },
  { additionalProperties: false },
);

export const DeleteAccountBody = Type.Object({ password: CurrentPassword }, { additionalProperties: false });

export const SessionParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

export const SessionInfo = Type.Object({
  id: Type.Integer(),
  created_at: Timestamp,
  last_used_at: Timestamp,
  expires_at: Timestamp,
  user_agent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
});

export const ActivityEntry = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  at: Timestamp,
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
});
