import { z } from 'zod';

export const UINT32_MAX = 0xffffffff;

/** An unsigned 32-bit integer (`Random`, a relayed message's `MsgSeq` and `MsgRandom`). */
export const uint32Schema = z
  .int({ error: 'expected an integer from 0 to 4294967295' })
  .min(0, { error: 'expected an integer from 0 to 4294967295' })
  .max(UINT32_MAX, { error: 'expected an integer from 0 to 4294967295' });
