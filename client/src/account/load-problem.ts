import { ConnectionError, describeError } from '../api/errors';

/** Why a list could not be read, for a read (describeError speaks of unsaved changes when the server is away). */
export function loadProblem(what: string, error: unknown): string {
  return error instanceof ConnectionError
    ? `${what} could not be loaded: the server cannot be reached. It will load when the server is back.`
    : `${what} could not be loaded: ${describeError(error)}`;
}
