/**
 * A start-up failure the code understood: its message is one line for the operator saying what is wrong and what
 * to do. main-process.ts prints it after "Failed to start:" and exits 1, with no stack.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}
