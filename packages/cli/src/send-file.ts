import { AbortError } from '@tim-broadcast/core';
import { createBroadcaster, type Broadcaster, type QueueResult } from '@tim-broadcast/rate-limit';
import { parseBroadcastLines, readInput, type FileLine } from './broadcast-file';
import { optionsError, resolveConfig, type AppConfig, type AppFlags } from './config';
import { confirmSend } from './confirm';
import { EXIT_FAILURE, EXIT_OK } from './errors';
import { errorJson } from './failure';
import { line, type CliIo } from './io';
import { formatDuration, linesLabel, planRun, type Plan } from './plan';
import { progressBar } from './progress';
import { factsTable, gridTable } from './render';

export interface SendFileFlags extends AppFlags {
  rate: number;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

/** What happened to one line; `--json` prints one per input line, in input order. */
export type LineOutcome =
  | { line: number; status: 'sent'; MsgSeq: number; Random: number; batchSize: number }
  | { line: number; status: 'failed' | 'not-sent'; error: ReturnType<typeof errorJson> };

const INTERRUPTED = { name: 'Interrupted', message: 'not sent: the run was interrupted before this line left' };

/**
 * `send --file`: validates the whole file, then queues every line at once in the coalescing queue, so the calls are
 * exactly the plan `--dry-run` prints. SIGINT/SIGTERM stop intake: lines still waiting are not sent, the call in
 * flight finishes, and the report says which lines went out. A second signal exits at once.
 */
export async function sendFile(io: CliIo, path: string, flags: SendFileFlags): Promise<number> {
  const name = path === '-' ? 'standard input' : path;
  const lines = parseBroadcastLines(await readInput(path, io.stdin), name);
  const plan = planRun(lines, flags.rate);
  if (flags.dryRun) {
    printPlan(io, plan, name, flags.json ?? false);
    return EXIT_OK;
  }
  const config = resolveConfig(flags, io.env, { endpoint: true });
  await confirmSend(io, { config, what: `${count(lines.length, 'broadcast')} in ${count(plan.calls.length, 'call')}`, yes: flags.yes ?? false, stdinIsData: path === '-' });
  return run(io, { lines, plan, config, name, json: flags.json ?? false });
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function printPlan(io: CliIo, plan: Plan, name: string, json: boolean): void {
  const expected = formatDuration(plan.expectedMs);
  if (json) {
    line(io.stdout, JSON.stringify({ broadcasts: plan.broadcasts, calls: plan.calls, ratePerSecond: plan.ratePerSecond, expectedMs: plan.expectedMs }));
    return;
  }
  const bytes = plan.calls.map((c) => c.bytes);
  line(io.stdout, `plan for ${name}: ${count(plan.broadcasts, 'broadcast')} in ${count(plan.calls.length, 'call')} at ${plan.ratePerSecond} call/s, about ${expected} (dry run: nothing is sent)`);
  line(
    io.stdout,
    gridTable(
      ['call', 'lines', 'broadcasts', 'MsgBody bytes'],
      plan.calls.map((c) => [c.call, c.firstLine === c.lastLine ? String(c.firstLine) : `${c.firstLine}–${c.lastLine}`, c.broadcasts, c.bytes]),
    ),
  );
  const average = Math.round(bytes.reduce((a, b) => a + b, 0) / bytes.length);
  line(io.stdout, `bytes per call: average ${average}, largest ${Math.max(...bytes)} (limit 12,000)`);
}

interface RunInput {
  lines: FileLine[];
  plan: Plan;
  config: AppConfig;
  name: string;
  json: boolean;
}

async function run(io: CliIo, { lines, plan, config, name, json }: RunInput): Promise<number> {
  const counters = { calls: 0, retries: 0, failed: 0, done: 0 };
  let broadcaster: Broadcaster;
  try {
    broadcaster = createBroadcaster({
      sdkAppId: config.sdkAppId,
      secretKey: config.secretKey,
      identifier: config.identifier,
      ...config.endpoint,
      coalesce: true,
      rateLimit: { ratePerSecond: plan.ratePerSecond },
      maxQueued: lines.length,
      hooks: {
        onRequest: (event) => {
          if (event.attempt === 1) counters.calls++;
        },
        onRetry: () => counters.retries++,
      },
    });
  } catch (err) {
    throw optionsError(err);
  }

  line(io.stderr, `sending ${count(lines.length, 'broadcast')} from ${name} in about ${count(plan.calls.length, 'call')} to ${config.target} at ${plan.ratePerSecond} call/s`);
  const started = Date.now();
  const bar = progressBar(io.stderr, lines.length);
  const outcomes: (LineOutcome | undefined)[] = new Array(lines.length);
  let printed = 0;
  const settle = (index: number, outcome: LineOutcome) => {
    outcomes[index] = outcome;
    counters.done++;
    if (outcome.status === 'failed') counters.failed++;
    bar.update(counters.done, counters);
    if (!json) return;
    // one line per input line, in input order: a line is printed once every line before it was
    while (printed < outcomes.length && outcomes[printed]) line(io.stdout, JSON.stringify(outcomes[printed++]));
  };

  const controllers = lines.map(() => new AbortController());
  const stopped = new Set<number>();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const pending = lines.map((_, i) => i).filter((i) => !outcomes[i]);
    // the queue is first in, first out: of the lines not settled, the last `size` still wait, the others are in flight
    const waiting = pending.slice(pending.length - broadcaster.queue.size);
    const inFlight = pending.slice(0, pending.length - waiting.length).map((i) => lines[i]!.line);
    if (interrupted) {
      bar.stop();
      const label = linesLabel(inFlight);
      const note = inFlight.length ? ` ${label[0]!.toUpperCase()}${label.slice(1)} ${inFlight.length === 1 ? 'was' : 'were'} in flight and may or may not have been delivered.` : '';
      line(io.stderr, `${signal} again: exiting now.${note}`);
      process.exit(EXIT_FAILURE);
    }
    interrupted = true;
    for (const i of waiting) {
      stopped.add(i);
      controllers[i]!.abort();
    }
    line(
      io.stderr,
      `\n${signal}: stopped; ${count(waiting.length, 'line')} will not be sent.${inFlight.length ? ` Waiting for the call in flight (${linesLabel(inFlight)}) to finish; ${signal} again to exit at once.` : ''}`,
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await Promise.all(
      lines.map((l, i) =>
        broadcaster.send(l.request, { signal: controllers[i]!.signal }).then(
          (r: QueueResult) => settle(i, { line: l.line, status: 'sent', MsgSeq: r.MsgSeq, Random: r.Random, batchSize: r.batchSize }),
          (error: unknown) =>
            settle(i, stopped.has(i) && error instanceof AbortError ? { line: l.line, status: 'not-sent', error: INTERRUPTED } : { line: l.line, status: 'failed', error: errorJson(error) }),
        ),
      ),
    );
  } finally {
    bar.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await broadcaster.close();
  }

  const results = outcomes as LineOutcome[];
  printSummary(io, { results, config, name, elapsedMs: Date.now() - started, counters, plan, json });
  return results.every((r) => r.status === 'sent') ? EXIT_OK : EXIT_FAILURE;
}

interface SummaryInput {
  results: LineOutcome[];
  config: AppConfig;
  name: string;
  elapsedMs: number;
  counters: { calls: number; retries: number };
  plan: Plan;
  json: boolean;
}

function printSummary(io: CliIo, { results, config, name, elapsedMs, counters, plan, json }: SummaryInput): void {
  const out = json ? io.stderr : io.stdout;
  const sent = results.filter((r) => r.status === 'sent');
  const failed = results.filter((r) => r.status === 'failed');
  const notSent = results.filter((r) => r.status === 'not-sent');
  const msgSeqs = new Set(sent.map((r) => r.MsgSeq));
  const rows: [string, string][] = [
    ['target', config.target],
    ['input', `${count(results.length, 'broadcast')} from ${name}`],
    ['sent', `${sent.length}${sent.length ? ` (${linesLabel(sent.map((r) => r.line))}) in ${count(msgSeqs.size, 'message')}` : ''}`],
    ['failed', failed.length ? `${failed.length} (${linesLabel(failed.map((r) => r.line))})` : '0'],
    ['not sent', notSent.length ? `${notSent.length} (${linesLabel(notSent.map((r) => r.line))}): interrupted` : '0'],
    ['calls', `${counters.calls} made, ${plan.calls.length} planned; ${counters.retries} retries`],
    ['elapsed', `${formatDuration(elapsedMs)} at ${plan.ratePerSecond} call/s`],
  ];
  line(out, factsTable(rows));
  // failed lines of one call share its error: list each error once with its lines
  const byError = new Map<string, number[]>();
  for (const r of failed) {
    if (r.status !== 'failed') continue;
    const key = `${r.error.name}: ${r.error.message}`;
    byError.set(key, [...(byError.get(key) ?? []), r.line]);
  }
  for (const [message, at] of [...byError].slice(0, 10)) line(out, `${linesLabel(at)}: ${message}`);
  if (byError.size > 10) line(out, `… and ${byError.size - 10} more errors (--json lists every line)`);
}
