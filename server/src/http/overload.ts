/**
 * The overload refusal: 503 with Retry-After at once, rather than letting a queue grow until every
 * request times out. Given by the overload guards (plugins/overload-guards.ts) and by the password
 * hasher when its queue is full (users/passwords.ts).
 */
import { HttpError } from './errors.js';

export const RETRY_AFTER_SECONDS = '5';

export const overloaded = () =>
  new HttpError(503, 'Server is overloaded; try again shortly.', {}, { 'retry-after': RETRY_AFTER_SECONDS });
