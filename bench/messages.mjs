// The mixed broadcasts the packing benchmarks send (the in-memory queue's and the outbox's), deterministic so runs compare.
import { custom, messageBytes, text } from '@tim-broadcast/core';

function prng(seed) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

/** `count` requests of 20–3,000 bytes (MsgBody JSON), a `customShare` of them custom, numbered `i:` in order. */
export function mixedMessages(count, customShare, seed) {
  const random = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const size = 20 + Math.floor(random() * 2_981);
    const isCustom = random() < customShare;
    const overhead = messageBytes([isCustom ? custom('') : text('')]);
    const payload = `${i}:`.padEnd(Math.max(size - overhead, 0), 'x');
    return { MsgBody: [isCustom ? custom(payload) : text(payload)] };
  });
}
