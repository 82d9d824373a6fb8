/**
 * Pipeline step: parses the Cookie header, for the session cookie of browser clients
 * (users/session-cookie.ts). It only parses: it refuses nothing, reads no database, and its onSend
 * hook writes the Set-Cookie headers of signup, login and logout. No signing: the token is the secret.
 */
import cookie from '@fastify/cookie';
import fp from 'fastify-plugin';

export const cookies = fp(
  async (app) => {
    await app.register(cookie);
  },
  { name: 'cookies', fastify: '5.x' },
);
