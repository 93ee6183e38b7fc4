// (a) Packing: 2,000 waiting broadcasts of mixed sizes sent through a coalescing queue.
//   ours      calls made by createBroadcastQueue({ coalesce: true }) (greedy, in order)
//   baseline  the naive way: one call per message
//   bound     the lower bound max(ceil(total bytes / 12,000), custom messages): at most one custom element per call
//   in-order  the fewest calls possible without reordering messages (dynamic programming over contiguous runs)
// Efficiency = bound / calls (1 = perfect). The target applies to the mixed-size text run; with custom elements
// the byte bound is out of reach for any in-order packer, so those runs are checked against the in-order optimum.
import { createBroadcastClient, messageBytes } from '@tim-broadcast/core';
import { startEmulator } from '@tim-broadcast/emulator';
import { createBroadcastQueue } from '@tim-broadcast/rate-limit';
import { mixedMessages } from './messages.mjs';

const N = 2_000;
const app = { sdkAppId: 1400000001, secretKey: 'bench-packing-secret', admin: 'administrator' };


/** Fewest contiguous runs of ≤ 12,000 merged bytes (merging k bodies saves k − 1 bytes) and ≤ 1 custom element. */
function inOrderOptimum(requests) {
  const bytes = requests.map((r) => messageBytes(r.MsgBody));
  const customs = requests.map((r) => r.MsgBody.filter((el) => el.MsgType === 'TIMCustomElem').length);
  const best = [0];
  for (let i = 1; i <= requests.length; i++) {
    best[i] = Infinity;
    let size = -1;
    let custom = 0;
    for (let j = i - 1; j >= 0; j--) {
      size += bytes[j] + 1;
      custom += customs[j];
      if (size > 12_000 || custom > 1) break;
      best[i] = Math.min(best[i], best[j] + 1);
    }
  }
  return best[requests.length];
}

async function pack(emu, requests) {
  emu.reset();
  const client = createBroadcastClient({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, identifier: app.admin, baseUrl: emu.url });
  const queue = createBroadcastQueue({ client, coalesce: true, maxQueued: N });
  await Promise.all(requests.map((r) => queue.send(r)));
  await queue.close();
  await client.close();
  const calls = emu.deliveries;
  if (calls.some((c) => c.bytes > 12_000)) throw new Error('a call went over 12,000 bytes');
  return calls.length;
}

export default async function run() {
  const emu = await startEmulator({ ...app, ratePerSecond: Infinity, maxDeliveries: N });
  try {
    const rows = [];
    for (const [label, share] of [['text only', 0], ['5% custom', 0.05], ['1 in 6 custom', 1 / 6]]) {
      const requests = mixedMessages(N, share, 7);
      const bytes = requests.reduce((n, r) => n + messageBytes(r.MsgBody), 0);
      const customs = requests.filter((r) => r.MsgBody[0].MsgType === 'TIMCustomElem').length;
      const bound = Math.max(Math.ceil(bytes / 12_000), customs);
      const optimum = inOrderOptimum(requests);
      const calls = await pack(emu, requests);
      const note = `${calls} calls vs ${N} one per message; byte bound ${bound} (${bytes.toLocaleString('en-US')} bytes, ${customs} custom); in-order optimum ${optimum}`;
      if (share === 0) {
        rows.push({
          figure: `packing efficiency (bound / calls), ${N} messages of 20–3,000 B`,
          ours: Number((bound / calls).toFixed(3)),
          baseline: Number((bound / N).toFixed(3)),
          unit: '',
          target: '≥ 0.9',
          pass: bound / calls >= 0.9,
          note,
        });
      }
      rows.push({
        figure: `calls for ${N} messages of 20–3,000 B, ${label}`,
        ours: calls,
        baseline: N,
        unit: 'calls',
        target: `= in-order optimum (${optimum})`,
        pass: calls === optimum,
        note,
      });
    }
    return rows;
  } finally {
    await emu.close();
  }
}
