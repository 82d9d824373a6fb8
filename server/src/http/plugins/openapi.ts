/**
 * Pipeline step: the OpenAPI document, built from the same route schemas that validate requests and
 * serialize answers (served at /api/v1/openapi.json). It adds no per-request hook; it is registered
 * before the routes because it collects each route as it is added.
 */
import swagger from '@fastify/swagger';
import fp from 'fastify-plugin';
import { ERROR_BODY_SCHEMA } from '../error-body.js';

export const openApi = fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        info: { title: 'Ironclad Tasks API', version: '1.0.0' },
        components: {
          securitySchemes: {
            token: {
              type: 'apiKey',
              in: 'header',
              name: 'Authorization',
              description: '`Token <key>` or `Bearer <key>`',
            },
          },
          // Every error answer has this shape (http/error-answer.ts); clients generate their error type from it.
          schemas: { ErrorBody: ERROR_BODY_SCHEMA },
        },
      },
    });
  },
  { name: 'openapi', fastify: '5.x' },
);
