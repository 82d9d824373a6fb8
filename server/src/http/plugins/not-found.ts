/**
 * Pipeline step: what no route answers. A path no route has is a 404; a path that exists but not for
 * this method is a 405 with `Allow` (Fastify alone would say 404), and a bare OPTIONS there gets 204
 * with `Allow`. Registered before the routes so its table sees each route as it is added; the handler
 * itself runs last, behind every hook of the pipeline, like a route.
 */
import fp from 'fastify-plugin';
import { HttpError, NOT_FOUND_MESSAGE } from '../errors.js';
import { RoutesTable } from '../routes-table.js';

export const routeNotFound = fp(
  async (app) => {
    const routes = new RoutesTable();
    routes.attach(app);
    app.setNotFoundHandler(async (request, reply) => {
      const path = request.url.split('?', 1)[0] ?? '/';
      const allowed = routes.allowed(path);
      if (!allowed) throw new HttpError(404, NOT_FOUND_MESSAGE);
      const allow = allowed.join(', ');
      if (request.method === 'OPTIONS') {
        reply.code(204).header('allow', allow);
        return reply.send();
      }
      throw new HttpError(405, `Method ${request.method} is not allowed here.`, { allowed }, { allow });
    });
  },
  { name: 'not-found', fastify: '5.x' },
);
