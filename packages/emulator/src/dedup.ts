import { createHash } from 'node:crypto';

export const DEDUP_WINDOW_MS = 5 * 60_000;

/** What makes two broadcasts "the same message": the body Random and the content. */
export interface DedupContent {
  Random: number;
  MsgBody: unknown;
  From_Account?: string | undefined;
  CloudCustomData?: string | undefined;
}

/** JSON with object keys sorted, so key order in the request does not change the content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function dedupKey(content: DedupContent): string {
  const text = canonical([content.Random, content.MsgBody, content.From_Account ?? null, content.CloudCustomData ?? null]);
  return createHash('sha256').update(text).digest('base64');
}

/** MsgSeqs of messages seen in the last 5 minutes, by dedup key. */
export class DedupStore {
  private entries = new Map<string, { msgSeq: number; at: number }>();

  /** The MsgSeq of the same message accepted less than 5 minutes before `now`, if any. */
  find(key: string, now: number): number | undefined {
    this.sweep(now);
    const entry = this.entries.get(key);
    return entry && now - entry.at < DEDUP_WINDOW_MS ? entry.msgSeq : undefined;
  }

  remember(key: string, msgSeq: number, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { msgSeq, at: now });
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  // Entries are in insertion order, which is time order unless the clock was set back.
  private sweep(now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.at < DEDUP_WINDOW_MS) break;
      this.entries.delete(key);
    }
  }
}
