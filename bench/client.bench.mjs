// Client overhead: 2,000 broadcasts, no limiter, against a minimal local server.
//   ours     createBroadcastClient + undiciTransport (validate, sign (cached), send, parse, classify)
//   raw      undici.request of the same pre-built URL and body (the floor: no SDK work at all)
//   naive    sign with tls-sig-api-v2 on every call + global fetch (what people write by hand)
import { Api } from 'tls-sig-api-v2';
import { Agent, request } from 'undici';
import { buildRequestUrl, createBroadcastClient, signUserSig, text } from '@tim-broadcast/core';
import { undiciTransport } from '@tim-broadcast/transport/undici';
import { interleaved, round, runConcurrent, startMinimalServer } from './lib.mjs';

const N = 2_000;
const CONCURRENCY = 8;
const creds = { sdkAppId: 1400000000, secretKey: 'bench-secret', identifier: 'administrator' };
const message = { MsgBody: [text('bench message'), { MsgType: 'TIMCustomElem', MsgContent: { Data: '{"type":1,"content":"hello world"}' } }] };

export default async function run() {
  const server = await startMinimalServer();
  const transport = undiciTransport({ connections: CONCURRENCY });
  const client = createBroadcastClient({ ...creds, baseUrl: server.url, transport });
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 60_000 });
  const url = buildRequestUrl(server.url, { ...creds, userSig: signUserSig(creds) });
  const body = JSON.stringify({ ...message, Random: 12345 });

  const variants = {
    ours: () => runConcurrent(N, CONCURRENCY, () => client.broadcast(message)),
    raw: () =>
      runConcurrent(N, CONCURRENCY, async () => {
        const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
        JSON.parse(await res.body.text());
      }),
    naive: () =>
      runConcurrent(N, CONCURRENCY, async () => {
        const sig = new Api(creds.sdkAppId, creds.secretKey).genUserSig(creds.identifier, 86400);
        const u = `${server.url}/v4/group_open_http_svc/send_broadcast_msg?sdkappid=${creds.sdkAppId}&identifier=${creds.identifier}&usersig=${sig}&random=${Math.floor(Math.random() * 4294967295)}&contenttype=json`;
        const res = await fetch(u, { method: 'POST', body: JSON.stringify({ ...message, Random: Math.floor(Math.random() * 4294967295) }) });
        await res.json();
      }),
  };
  await interleaved(variants, 1); // warm-up: JIT, sockets
  const ms = await interleaved(variants, 5);
  await Promise.all([client.close(), agent.close(), server.close()]);

  const perSec = (t) => round((N / t) * 1000, 0);
  return [
    {
      figure: `client throughput vs raw undici.request (${N} calls, ${CONCURRENCY} in flight)`,
      ours: perSec(ms.ours),
      baseline: perSec(ms.raw),
      unit: 'calls/s',
      target: '≥ 0.90 × raw (aim 0.95)',
      pass: ms.raw / ms.ours >= 0.9,
    },
    {
      figure: 'client throughput vs naive (sign every call + global fetch)',
      ours: perSec(ms.ours),
      baseline: perSec(ms.naive),
      unit: 'calls/s',
      target: '> 1.00 × naive',
      pass: ms.naive / ms.ours > 1,
    },
  ];
}
