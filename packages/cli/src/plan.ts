import { MAX_MESSAGE_BYTES } from '@tim-broadcast/core';
import { packable, planBatches } from '@tim-broadcast/rate-limit';
import type { FileLine } from './broadcast-file';

/** One call of a run: which lines it carries and its MsgBody bytes. */
export interface PlannedCall {
  call: number;
  firstLine: number;
  lastLine: number;
  broadcasts: number;
  bytes: number;
}

export interface Plan {
  broadcasts: number;
  calls: PlannedCall[];
  ratePerSecond: number;
  /** From the first call to the last at the rate: (calls − 1) / rate, round trips not included. */
  expectedMs: number;
}

/**
 * The calls the coalescing queue makes for these lines: rate-limit's own packing function on the whole file, which
 * is what the queue does when every line is queued before the first call leaves (as `send --file` does).
 */
export function planRun(lines: readonly FileLine[], ratePerSecond: number): Plan {
  const batches = planBatches(
    lines.map((l) => packable(l.request)),
    { coalesce: true, maxBytes: MAX_MESSAGE_BYTES },
  );
  const calls: PlannedCall[] = [];
  let at = 0;
  for (const [i, batch] of batches.entries()) {
    calls.push({ call: i + 1, firstLine: lines[at]!.line, lastLine: lines[at + batch.size - 1]!.line, broadcasts: batch.size, bytes: batch.bytes });
    at += batch.size;
  }
  return { broadcasts: lines.length, calls, ratePerSecond, expectedMs: (Math.max(calls.length - 1, 0) * 1000) / ratePerSecond };
}

/** `1 h 2 min`, `3 min 4 s`, `5.2 s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** `3`, `3–7`, `1–4, 9, 12–15`: line numbers as ranges. */
export function lineRanges(lines: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j]! + 1) j++;
    out.push(i === j ? String(lines[i]) : `${lines[i]}–${lines[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

/** `line 3` or `lines 3–7, 9`. */
export function linesLabel(lines: readonly number[]): string {
  return `${lines.length === 1 ? 'line' : 'lines'} ${lineRanges(lines)}`;
}
