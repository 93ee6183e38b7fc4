import { readFile } from 'node:fs/promises';
import { closestName, formatPath, parseBroadcastRequest, text, ValidationError, type BroadcastRequest } from '@tim-broadcast/core';
import { usageError } from './errors';

/** One broadcast of a file, with the line it came from (1-based). */
export interface FileLine {
  line: number;
  request: BroadcastRequest;
}

/** The fields a line may hold: a request as in the docs, or `{ "text": … }` alone. */
const REQUEST_FIELDS = ['MsgBody', 'From_Account', 'CloudCustomData', 'Random'];
const FIELDS = ['text', ...REQUEST_FIELDS];
/** How many bad lines are listed before "… and N more". */
const MAX_LISTED = 20;

/** Reads a whole file, or standard input for `-`. */
export async function readInput(path: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (path !== '-') {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw usageError(`cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? 'read error'})`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Validates every line of an NDJSON text before anything is sent. Blank lines are skipped. Throws a usage error
 * naming each bad line's number and field (the first 20 of them), or when there is no broadcast at all.
 */
export function parseBroadcastLines(input: string, name: string): FileLine[] {
  const lines: FileLine[] = [];
  const problems: string[] = [];
  input
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, index) => {
      if (raw.trim() === '') return;
      const line = index + 1;
      const result = parseLine(raw);
      if (typeof result === 'string') problems.push(`  line ${line}: ${result}`);
      else lines.push({ line, request: result });
    });
  if (problems.length) {
    const more = problems.length > MAX_LISTED ? [`  … and ${problems.length - MAX_LISTED} more`] : [];
    throw usageError(`${name}: ${problems.length} bad line(s); nothing was sent\n${[...problems.slice(0, MAX_LISTED), ...more].join('\n')}`);
  }
  if (lines.length === 0) throw usageError(`${name}: no broadcasts (every line is blank)`);
  return lines;
}

/** The request of one line, or what is wrong with it. */
function parseLine(raw: string): BroadcastRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object: a request ({ "MsgBody": [...] }) or { "text": "..." }';
  const fields = Object.keys(value);
  const unknown = fields.filter((f) => !FIELDS.includes(f));
  if (unknown.length) {
    return unknown
      .map((f) => {
        const near = closestName(f, FIELDS);
        return `${f}: unknown field${near ? ` (did you mean '${near}'?)` : ''}; a line holds ${REQUEST_FIELDS.join(', ')}, or text alone`;
      })
      .join('; ');
  }
  let input: unknown = value;
  if ('text' in value) {
    const others = fields.filter((f) => f !== 'text');
    if (others.length) return `${others[0]}: the { "text": ... } form takes no other field; write a request with MsgBody instead`;
    const content = (value as { text: unknown }).text;
    if (typeof content !== 'string') return 'text: expected a string';
    input = { MsgBody: [text(content)] };
  }
  try {
    return parseBroadcastRequest(input);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const isText = 'text' in value;
    return err.issues.map((i) => `${isText ? 'text' : formatPath(i.path)}: ${i.message}`).join('; ');
  }
}
