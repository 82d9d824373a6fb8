/**
 * Pipeline step: authentication (users/authenticate.ts). It adds no hook of its own: it declares
 * `request.auth` and gives the app the `authenticate` hook that protected routes run in onRequest,
 * before their body is read, so an anonymous caller costs no parsing or validation.
 */
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
}

export const authentication = fp<AuthenticationOptions>(
  async (app, { sessions, allowedOrigins }) => {
    app.decorateRequest('auth', null);
    app.decorate('authenticate', buildAuthenticate(sessions, allowedOrigins));
  },
  { name: 'authentication', fastify: '5.x' },
);
