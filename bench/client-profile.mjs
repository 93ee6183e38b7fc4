// CPU per call of the client and of raw undici calls, interleaved in one process (the server runs in its own):
//   node [--cpu-prof --cpu-prof-dir=/tmp/prof] bench/client-profile.mjs [variants,comma-separated] [calls] [in flight] [rounds]
// Variants: ours, raw-fresh (bench/client.bench.mjs's baseline), raw (one pre-built request, re-sent).
import { Agent, request } from 'undici';
import { buildRequestUrl, createBroadcastClient, randomUint32, signUserSig, text } from '@tim-broadcast/core';
import { undiciTransport } from '@tim-broadcast/transport/undici';
import { runConcurrent, startMinimalServer } from './lib.mjs';

const variants = (process.argv[2] ?? 'ours,raw-fresh').split(',');
const N = Number(process.argv[3] ?? 20_000);
const concurrency = Number(process.argv[4] ?? 8);
const rounds = Number(process.argv[5] ?? 3);
const creds = { sdkAppId: 1400000000, secretKey: 'bench-secret', identifier: 'administrator' };
const message = { MsgBody: [text('bench message'), { MsgType: 'TIMCustomElem', MsgContent: { Data: '{"type":1,"content":"hello world"}' } }] };
const headers = { 'content-type': 'application/json' };

const server = await startMinimalServer();
const transport = undiciTransport({ connections: concurrency });
const client = createBroadcastClient({ ...creds, baseUrl: server.url, transport });
const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });
const url = buildRequestUrl(server.url, { ...creds, userSig: signUserSig(creds) });
const prefix = url.slice(0, url.indexOf('&random='));
const body = JSON.stringify({ ...message, Random: 12345 });
const rawCall = async (u, b) => {
  const res = await request(u, { method: 'POST', body: b, headers, dispatcher: agent });
  return JSON.parse(await res.body.text());
};
const calls = {
  ours: () => client.broadcast(message),
  raw: () => rawCall(url, body),
  'raw-fresh': () => rawCall(`${prefix}&random=${randomUint32()}&contenttype=json`, JSON.stringify({ ...message, Random: randomUint32() })),
};
const totals = Object.fromEntries(variants.map((v) => [v, { cpu: 0, ms: 0 }]));
for (const v of variants) await runConcurrent(2_000, concurrency, calls[v]);
for (let r = 0; r < rounds; r++) {
  for (const v of variants) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await runConcurrent(N, concurrency, calls[v]);
    totals[v].ms += performance.now() - started;
    const used = process.cpuUsage(cpu);
    totals[v].cpu += used.user + used.system;
  }
}
for (const v of variants) {
  const { cpu, ms } = totals[v];
  console.log(`${v.padEnd(10)} ${Math.round((N * rounds) / ms * 1000)} calls/s, ${(cpu / (N * rounds)).toFixed(1)} µs CPU per call (${concurrency} in flight)`);
}
await Promise.all([client.close(), agent.close()]);
await server.close();
