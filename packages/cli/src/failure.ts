import { ApiError, formatPath, TimBroadcastError, TransportError, ValidationError } from '@tim-broadcast/core';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './errors';

/** What the CLI prints for an error and the exit code it means. Messages from the SDK never hold the secret or a UserSig. */
export function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ValidationError) {
    return { message: `invalid input:\n${error.issues.map((i) => `  ${formatPath(i.path)}: ${i.message}`).join('\n')}`, exitCode: EXIT_USAGE };
  }
  // ApiError's message carries the code's hint: what to do about it
  if (error instanceof TimBroadcastError) return { message: (error as Error).message, exitCode: EXIT_FAILURE };
  return { message: `unexpected error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, exitCode: EXIT_FAILURE };
}

/** An error as one JSON object: name, message and, when it has one, the API or network code. */
export function errorJson(error: unknown): { name: string; message: string; code?: number | string } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = error instanceof ApiError || error instanceof TransportError ? error.code : undefined;
  return { name: error.name, message: error.message, ...(code === undefined ? {} : { code }) };
}
