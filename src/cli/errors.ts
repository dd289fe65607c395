/**
 * Exit codes and the errors that carry them. A command throws a CliError; main() prints
 * its message to stderr as `hetmem: ...` and exits with its code.
 */

export const EXIT = {
  ok: 0,
  /** Something went wrong while running: the simulation failed, the database could not be written. */
  failure: 1,
  /** The experiment or an argument is invalid; nothing was written. */
  invalid: 2,
  /** Interrupted (Ctrl-C): the run was recorded as cancelled. 128 + SIGINT, as shells expect. */
  interrupted: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** Printed as they are (no `hetmem: ` prefix), after the message if it is not empty. */
    readonly lines: string[] = [],
    /** stdoutWritten: the command's output (JSON or text) is on stdout already; --json adds no error object. */
    readonly options: { stdoutWritten?: boolean } = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Invalid input or argument: exit 2. */
export function invalid(message: string, lines: string[] = []): CliError {
  return new CliError(message, EXIT.invalid, lines);
}

/** A failure while doing valid work: exit 1. */
export function failure(message: string): CliError {
  return new CliError(message, EXIT.failure);
}
