/**
 * Pipeline step: error answers (http/error-answer.ts). It adds no hook: it installs the error handler
 * every route and hook hands its failures to, and our answers to the two requests Node's HTTP server
 * would otherwise answer itself (an unknown `Expect`, CONNECT). The other two ways in, router errors
 * and malformed HTTP, are Fastify constructor options (frameworkErrors, clientErrorHandler) in app.ts.
 */
import fp from 'fastify-plugin';
import { buildErrorHandler } from '../error-answer.js';
import { attachServerGuards } from '../wire.js';

export interface ErrorAnswersOptions {
  /** DEBUG: a 500 also shows the error’s message, for development. */
  debug: boolean;
}

export const errorAnswers = fp<ErrorAnswersOptions>(
  async (app, { debug }) => {
    app.setErrorHandler(buildErrorHandler(debug));
    attachServerGuards(app.server, app.log);
  },
  { name: 'error-answers', fastify: '5.x' },
);
