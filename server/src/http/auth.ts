/**
 * The contract between authentication (users/authenticate.ts, which fulfils it) and every route that
 * needs the caller (users and tasks alike): who the caller is, the hook type that finds out, and the
 * 401s it answers. Here, not in users/, so that tasks/ depends on this contract and not on users/.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

/** The caller behind a valid session token. */
export interface AuthContext {
  sessionId: number;
  userId: number;
  email: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the Authenticate hook; null until it has run (plugins/authentication.ts decorates it). */
    auth: AuthContext | null;
  }
}

/** An onRequest hook that sets `request.auth` or throws a 401. */
export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

const CHALLENGE = { 'www-authenticate': 'Token realm="api"' };

export const missingCredentials = () =>
  new HttpError(401, 'Authentication credentials were not provided.', {}, CHALLENGE);

/** Why a session was ended by something other than its own logout (users/sessions.ts keeps it until expiry). */
export type EndReason = 'ended' | 'password-changed' | 'logged-out-everywhere';
/** Why a presented token was refused: the client shows the person the matching sentence. */
export type RefusalReason = EndReason | 'expired' | 'invalid';

const REFUSALS: Record<RefusalReason, string> = {
  ended: 'This session was ended from another device.',
  'password-changed': 'This session ended because the account’s password was changed.',
  'logged-out-everywhere': 'This session ended: the account was logged out everywhere.',
  expired: 'Invalid or expired token.',
  invalid: 'Invalid or expired token.',
};

/** 401 for a token that names no live session; `reason` tells the client which sentence to show. */
export const invalidToken = (reason?: RefusalReason) =>
  new HttpError(401, REFUSALS[reason ?? 'invalid'], reason ? { reason } : {}, CHALLENGE);

/** For handlers behind an Authenticate hook: the context is always there. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw invalidToken();
  return request.auth;
}
