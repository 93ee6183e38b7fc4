export { runCli } from './run';
export type { CliIo } from './io';
export { EXIT_OK, EXIT_FAILURE, EXIT_USAGE, CliError } from './errors';
