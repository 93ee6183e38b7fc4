import { runEmulatorCli } from '@tim-broadcast/emulator';
import { EXIT_FAILURE, EXIT_OK } from './errors';
import { line, type CliIo } from './io';

export const EMULATOR_EXAMPLES = `Examples:
  tim-broadcast emulator --port 8080                  # a free secret is generated and printed
  tim-broadcast emulator --port 0 --rate 5 --quiet
  tim-broadcast emulator --fault-rate 0.2 --seed 7    # replayable faults
  # then, in another shell:
  TIM_SDKAPPID=1400000000 TIM_SECRET_KEY=<printed> TIM_BASE_URL=http://127.0.0.1:8080 tim-broadcast send "hello"
`;

/**
 * `emulator [flags]`: the emulator's own command line (same flags and TIM_EMULATOR_* variables). It keeps running
 * until SIGINT/SIGTERM; the exit code is what the emulator sets.
 */
export async function emulatorCommand(io: CliIo, args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    let usage = '';
    await runEmulatorCli(['--help'], io.env, { stdout: { write: (t: string) => (usage += t) }, stderr: io.stderr, name: 'tim-broadcast emulator' });
    line(io.stdout, usage.replace('Usage: tim-broadcast-emulator [flags]', 'Usage: tim-broadcast emulator [flags]'));
    io.stdout.write(EMULATOR_EXAMPLES);
    return EXIT_OK;
  }
  const emulator = await runEmulatorCli(args, io.env, { stdout: io.stdout, stderr: io.stderr, name: 'tim-broadcast emulator' });
  if (emulator) return EXIT_OK;
  const code = Number(process.exitCode ?? EXIT_FAILURE);
  return Number.isInteger(code) ? code : EXIT_FAILURE;
}
