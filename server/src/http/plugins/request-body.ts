/**
 * Pipeline step: request bodies. JSON only, UTF-8 only, and received within REQUEST_BODY_TIMEOUT of
 * the headers. Its deadline hook is the first hook of every request: it must be armed even for a
 * request that a later step refuses, or a client could be refused and still hold the socket open by
 * trickling the body it announced.
 */
import fp from 'fastify-plugin';
import { HttpError } from '../errors.js';

export interface RequestBodyOptions {
  /** REQUEST_BODY_TIMEOUT, in milliseconds. */
  timeoutMs: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export const requestBody = fp<RequestBodyOptions>(
  async (app, { timeoutMs }) => {
    // The API speaks JSON only: without this, Fastify would read text/plain bodies as strings (400 instead of 415).
    app.removeContentTypeParser('text/plain');

    // Fastify's JSON parser would turn invalid UTF-8 into U+FFFD and store it. Decoding is strict here;
    // the parsing (with prototype-poisoning protection) stays Fastify's.
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      let text: string;
      try {
        text = utf8.decode(body as Buffer);
      } catch {
        done(new HttpError(400, 'Request body is not valid UTF-8.'), undefined);
        return;
      }
      parseJson(request, text, done);
    });

    // Node's own request timeout stops watching once the headers are in, so a client trickling one byte
    // every few seconds could hold a connection (and a parser) forever. Past the deadline the request
    // gets 408 and the connection is closed.
    app.addHook('onRequest', (request, _reply, done) => {
      const raw = request.raw;
      const hasBody = raw.headers['content-length'] !== undefined || raw.headers['transfer-encoding'] !== undefined;
      if (!hasBody || raw.complete) return done();
      const timer = setTimeout(() => {
        if (raw.complete) return;
        // Fastify's body reader listens for errors on the stream and answers with our error handler.
        if (raw.listenerCount('error') > 0) {
          raw.emit('error', new HttpError(408, 'Request body took too long to arrive.', {}, { connection: 'close' }));
        } else raw.destroy();
      }, timeoutMs);
      timer.unref();
      const clear = () => clearTimeout(timer);
      raw.once('end', clear);
      raw.once('close', clear);
      done();
    });
  },
  { name: 'request-body', fastify: '5.x' },
);
