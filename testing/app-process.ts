import { spawn, type ChildProcess } from 'node:child_process';

/** A built example app run by a real Node process, its stdout and stderr collected (for the tests that run `dist`). */
export interface AppProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr together. */
  output(): string;
  /** The first match of `pattern` in its output; rejects if it exits first, or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL unless it has exited (for clean-up). */
  kill(): void;
}

/** Runs `main` with exactly `env` (pass what it should inherit). */
export function startApp(main: string, env: Record<string, string | undefined>): AppProcess {
  const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let closed = false;
  // 'close' rather than 'exit': by then everything it printed has been read
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      closed = true;
      resolve({ code, signal });
      for (const w of waiters) w();
    }),
  );
  return {
    child,
    output: () => output,
    exited,
    waitFor: (pattern, timeoutMs = 20_000) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const timer = setTimeout(() => settle(new Error(`the app did not print ${pattern} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
        const settle = (result: RegExpMatchArray | Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (result instanceof Error) reject(result);
          else resolve(result);
        };
        const check = () => {
          const match = output.match(pattern);
          if (match) settle(match);
          else if (closed) settle(new Error(`the app exited before printing ${pattern}:\n${output}`));
        };
        waiters.add(check);
        check();
      }),
    kill: () => {
      if (!closed) child.kill('SIGKILL');
    },
  };
}
