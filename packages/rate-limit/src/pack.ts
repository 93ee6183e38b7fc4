import { MAX_MESSAGE_BYTES, messageBytes, type BroadcastRequest } from '@tim-broadcast/core';

/**
 * Packing: which waiting broadcasts share one call. One pure function, used by the in-memory queue and by the
 * outbox, so both pack the same input into the same calls.
 *
 * Rules: in order (a call takes the head and the broadcasts right behind it); the merged MsgBody stays within
 * `maxBytes` (UTF-8 JSON); at most one TIMCustomElem per call; only broadcasts with the same `From_Account` and
 * `CloudCustomData` merge; a broadcast with its own `Random` or idempotency key is always sent alone.
 */
export interface Packable {
  readonly request: BroadcastRequest;
  /** `messageBytes(request.MsgBody)`; see `packable()`. */
  readonly bytes: number;
  /** 1 when the MsgBody holds a TIMCustomElem. */
  readonly customs: number;
  /** false for a broadcast with its own Random or an idempotency key. */
  readonly mergeable: boolean;
}

export interface PackOptions {
  /** Merge at all (default true). With false every call carries one broadcast. */
  coalesce?: boolean;
  /** Byte budget of one call's MsgBody (default and maximum 12,000). */
  maxBytes?: number;
}

/** The packing facts of a validated request. */
export function packable(request: BroadcastRequest, mergeable = request.Random === undefined): Packable {
  return {
    request,
    bytes: messageBytes(request.MsgBody),
    customs: request.MsgBody.some((el) => el.MsgType === 'TIMCustomElem') ? 1 : 0,
    mergeable: mergeable && request.Random === undefined,
  };
}

/**
 * How many broadcasts from the head of `waiting` go into the next call (0 when `waiting` is empty). Reads only
 * as far as it needs, so `waiting` may be a lazy iterator over a long queue.
 */
export function nextBatchSize(waiting: Iterable<Packable>, options: PackOptions = {}): number {
  const coalesce = options.coalesce ?? true;
  const maxBytes = options.maxBytes ?? MAX_MESSAGE_BYTES;
  let count = 0;
  let first: Packable | undefined;
  let bytes = 0;
  let customs = 0;
  for (const next of waiting) {
    if (!first) {
      first = next;
      bytes = next.bytes;
      customs = next.customs;
      count = 1;
      if (!coalesce || !next.mergeable) break;
      continue;
    }
    if (!next.mergeable || next.request.From_Account !== first.request.From_Account || next.request.CloudCustomData !== first.request.CloudCustomData) break;
    // JSON of [a…] and [b…] joined into [a…,b…]: one bracket pair fewer, one comma more, so one byte less than the sum
    const merged = bytes + next.bytes - 1;
    if (merged > maxBytes || customs + next.customs > 1) break;
    bytes = merged;
    customs += next.customs;
    count++;
  }
  return count;
}

/** The request for one call carrying `batch` (which `nextBatchSize` formed); a batch of one is its own request. */
export function mergeBatch(batch: readonly BroadcastRequest[]): BroadcastRequest {
  if (batch.length === 1) return batch[0]!;
  const { From_Account, CloudCustomData } = batch[0]!;
  return {
    ...(From_Account === undefined ? {} : { From_Account }),
    ...(CloudCustomData === undefined ? {} : { CloudCustomData }),
    MsgBody: batch.flatMap((request) => request.MsgBody),
  };
}

/** The calls a whole list would be sent in: each call's size (broadcasts) and MsgBody bytes. For plans and benchmarks. */
export function planBatches(items: readonly Packable[], options: PackOptions = {}): { size: number; bytes: number }[] {
  const calls: { size: number; bytes: number }[] = [];
  for (let i = 0; i < items.length; ) {
    const size = nextBatchSize(from(items, i), options);
    const bytes = items.slice(i, i + size).reduce((sum, item) => sum + item.bytes, 0) - (size - 1);
    calls.push({ size, bytes });
    i += size;
  }
  return calls;
}

function* from<T>(items: readonly T[], start: number): Generator<T> {
  for (let i = start; i < items.length; i++) yield items[i]!;
}
