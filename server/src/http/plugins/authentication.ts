/**
 * Pipeline step: authentication (users/authenticate.ts). It adds no hook of its own: it declares
 * `request.auth` and gives the app the `authenticate` hook that protected routes run in onRequest,
 * before their body is read, so an anonymous caller costs no parsing or validation. Once the caller is known, the
 * request is counted against the account's read or write budget (plugins/rate-limits.ts), so a flooding account is
 * refused before any body is parsed or any task query runs.
 */

import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { buildAuthenticate } from '../../users/authenticate.js';
import type { SessionStore } from '../../users/sessions.js';
import type { Authenticate } from '../auth.js';

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: Authenticate;
  }
}

export interface AuthenticationOptions {
  sessions: SessionStore;
  /** For the CSRF check of cookie-authenticated writes. */
  allowedOrigins: ReadonlySet<string>;
  /** Counts the request against the account's budget; throws 429 when it is spent. */
  spendBudget: (request: FastifyRequest, account: number) => Promise<void> | undefined;
}

export const authentication = fp<AuthenticationOptions>(
  async (app, { sessions, allowedOrigins, spendBudget }) => {
    app.decorateRequest('auth', null);
    const identify = buildAuthenticate(sessions, allowedOrigins);
    const authenticate: Authenticate = async (request, reply) => {
      await identify(request, reply);
      if (!request.auth) return;
      // Usually decided at once; a promise only for an account's first request in a window (plugins/rate-limits.ts).
      const pending = spendBudget(request, request.auth.userId);
      if (pending) await pending;
    };
    app.decorate('authenticate', authenticate);
  },
  { name: 'authentication', fastify: '5.x' },
);
