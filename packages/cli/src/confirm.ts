import { createInterface } from 'node:readline';
import type { AppConfig } from './config';
import { CliError, EXIT_FAILURE, usageError } from './errors';
import { line, type CliIo } from './io';

export interface ConfirmOptions {
  config: AppConfig;
  /** What is about to go out, e.g. "1 broadcast" or "40 broadcasts in 5 calls". */
  what: string;
  yes: boolean;
  /** Standard input carries the broadcasts (`--file -`), so it cannot answer a question. */
  stdinIsData: boolean;
}

/**
 * Before sending to a real app (any base URL not on this machine): names the app and the target, then asks on a
 * terminal. `--yes` skips the question. Without a terminal to ask on, it refuses (exit 2) rather than send
 * unconfirmed. Never asks for a loopback base URL (the emulator).
 */
export async function confirmSend(io: CliIo, options: ConfirmOptions): Promise<void> {
  const { config, what, yes, stdinIsData } = options;
  if (config.loopback) return;
  line(
    io.stderr,
    `About to send ${what} to EVERY audio-video group (AVChatRoom) of SDKAppID ${config.sdkAppId}, ${config.target}, as ${config.identifier}.`,
  );
  if (yes) return;
  if (!io.stdin.isTTY || stdinIsData) {
    throw usageError(
      `not confirmed: ${stdinIsData ? 'standard input carries the broadcasts' : 'standard input is not a terminal'}, so there is no one to ask; add --yes to send to this app. Nothing was sent.`,
    );
  }
  const answer = await ask(io, 'Send? Type "yes" to send, anything else to stop: ');
  if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('not confirmed; nothing was sent', EXIT_FAILURE);
}

function ask(io: CliIo, question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
    let done = false;
    const finish = (answer: string) => {
      if (done) return;
      done = true;
      rl.close();
      resolve(answer);
    };
    rl.question(question, finish);
    // Ctrl-C or Ctrl-D at the prompt: a no
    rl.on('SIGINT', () => {
      line(io.stderr);
      finish('');
    });
    rl.on('close', () => finish(''));
  });
}
