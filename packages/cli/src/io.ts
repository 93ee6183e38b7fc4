/** Where a run reads and writes; `runCli` defaults each to the process's own. */
export interface CliIo {
  /** Read for `send --file -`, `usersig verify -` and the confirmation prompt. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Results: MsgSeq, JSON lines, a UserSig that was asked for, tables. */
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  /** Progress, notices, errors. The progress bar is drawn only when it is a TTY. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** TIM_SDKAPPID, TIM_SECRET_KEY, TIM_IDENTIFIER, TIM_REGION, TIM_BASE_URL. */
  env: NodeJS.ProcessEnv;
}

export function line(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}
