import { MAX_BATCH_SIZE } from '@tim-broadcast/core';

/**
 * How many callers' requests a call says it carries (`x-tim-broadcast-batch-size`, sent by a queue that merged
 * several): an integer from 1 to 10,000 written in plain digits, else 1. Only shown; never a reason to refuse a call.
 */
export function batchSizeOf(header: string | string[] | undefined): number {
  if (typeof header !== 'string' || !/^[1-9][0-9]{0,4}$/.test(header.trim())) return 1;
  const size = Number(header.trim());
  return size <= MAX_BATCH_SIZE ? size : 1;
}
