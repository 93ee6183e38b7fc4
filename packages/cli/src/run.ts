import { CommanderError } from 'commander';
import { EXIT_OK, EXIT_USAGE } from './errors';
import { describeFailure } from './failure';
import { line, type CliIo } from './io';
import { buildProgram } from './program';

/** Flags that would put the secret on the command line; refused without echoing their value. */
const SECRET_FLAG = /^--?(secret|secret[-_]?key|secretkey|key|sig|usersig)(=|$)/i;

/**
 * Runs the `tim-broadcast` command line and resolves with its exit code: 0 success, 1 failure (API or network),
 * 2 usage or validation. `emulator` resolves once the emulator listens and keeps running until SIGINT/SIGTERM.
 * `send --file` listens for SIGINT/SIGTERM while it runs.
 */
export async function runCli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = {
    stdin: io.stdin ?? process.stdin,
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
  };
  // the emulator takes a (test) secret as --secret; everything else never takes one as a flag
  if (argv[0] !== 'emulator') {
    const flag = argv.find((arg) => SECRET_FLAG.test(arg));
    if (flag) {
      const name = flag.split('=')[0];
      line(full.stderr, `tim-broadcast: ${name} is not accepted: a secret on the command line ends up in shell history and in ps. Set TIM_SECRET_KEY, or put the key in a file and pass --secret-key-file FILE.`);
      return EXIT_USAGE;
    }
  }
  let code: number = EXIT_OK;
  const program = buildProgram(full, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    // help and --version end with exit code 0; every parse error (already printed) is a usage error
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    const { message, exitCode } = describeFailure(err);
    line(full.stderr, `tim-broadcast: ${message}`);
    return exitCode;
  }
}
