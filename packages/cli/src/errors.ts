import { TimBroadcastError } from '@tim-broadcast/core';

/** Exit codes: 0 success, 1 failure (API or network; a refusal at the prompt), 2 usage or validation. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A run that stops with a message for the user and an exit code; never holds the secret or a UserSig. */
export class CliError extends TimBroadcastError {
  override name = 'CliError';
  readonly exitCode: typeof EXIT_FAILURE | typeof EXIT_USAGE;

  constructor(message: string, exitCode: typeof EXIT_FAILURE | typeof EXIT_USAGE) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Bad flags, a bad file, missing configuration: exit 2, nothing was sent. */
export const usageError = (message: string) => new CliError(message, EXIT_USAGE);
