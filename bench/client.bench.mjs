// Client overhead: 2,000 broadcasts, no limiter, against a minimal local server (in its own process).
//   ours        createBroadcastClient + undiciTransport: validate, serialize, sign (cached), send, parse, classify
//   before      the same, as it was before issue 18 (core and transport rebuilt from git: bench/before-client.mjs)
//   raw         undici.request of one pre-built URL and body, re-sent unchanged (the floor: no SDK work at all)
//   raw-fresh   undici.request with a fresh query random and body Random per call, as every correct caller needs
//   naive       sign with tls-sig-api-v2 on every call + global fetch (what people write by hand)
// Run at 1 call in flight (the API's real shape: 1–5 calls/s, so calls are sequential) and at 8 (a CPU stress test).
import { Api } from 'tls-sig-api-v2';
import { Agent, request } from 'undici';
import { buildRequestUrl, createBroadcastClient, randomUint32, signUserSig, text } from '@tim-broadcast/core';
import { undiciTransport } from '@tim-broadcast/transport/undici';
import { loadBeforeClient } from './before-client.mjs';
import { interleaved, median, round, runConcurrent, startMinimalServer } from './lib.mjs';

const N = 2_000;
const creds = { sdkAppId: 1400000000, secretKey: 'bench-secret', identifier: 'administrator' };
const message = { MsgBody: [text('bench message'), { MsgType: 'TIMCustomElem', MsgContent: { Data: '{"type":1,"content":"hello world"}' } }] };
const headers = { 'content-type': 'application/json' };

async function measure(server, concurrency, before) {
  const transport = undiciTransport({ connections: concurrency });
  const client = createBroadcastClient({ ...creds, baseUrl: server.url, transport });
  const beforeClient = before.createBroadcastClient({ ...creds, baseUrl: server.url, transport: before.undiciTransport({ connections: concurrency }) });
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });
  const url = buildRequestUrl(server.url, { ...creds, userSig: signUserSig(creds) });
  const prefix = url.slice(0, url.indexOf('&random='));
  const body = JSON.stringify({ ...message, Random: 12345 });
  const rawCall = async (u, b) => {
    const res = await request(u, { method: 'POST', body: b, headers, dispatcher: agent });
    return JSON.parse(await res.body.text());
  };
  const variants = {
    ours: () => runConcurrent(N, concurrency, () => client.broadcast(message)),
    before: () => runConcurrent(N, concurrency, () => beforeClient.broadcast(message)),
    raw: () => runConcurrent(N, concurrency, () => rawCall(url, body)),
    rawFresh: () =>
      runConcurrent(N, concurrency, () =>
        rawCall(`${prefix}&random=${randomUint32()}&contenttype=json`, JSON.stringify({ ...message, Random: randomUint32() })),
      ),
    naive: () =>
      runConcurrent(N, concurrency, async () => {
        const sig = new Api(creds.sdkAppId, creds.secretKey).genUserSig(creds.identifier, 86400);
        const u = `${server.url}/v4/group_open_http_svc/send_broadcast_msg?sdkappid=${creds.sdkAppId}&identifier=${creds.identifier}&usersig=${sig}&random=${Math.floor(Math.random() * 4294967295)}&contenttype=json`;
        const res = await fetch(u, { method: 'POST', body: JSON.stringify({ ...message, Random: Math.floor(Math.random() * 4294967295) }) });
        await res.json();
      }),
  };
  // CPU time of each run, by variant (the server is in another process: this is the caller's own work)
  const cpu = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (const [name, fn] of Object.entries(variants)) {
    variants[name] = async () => {
      const start = process.cpuUsage();
      await fn();
      const used = process.cpuUsage(start);
      cpu[name].push(used.user + used.system);
    };
  }
  await interleaved(variants, 1); // warm-up: JIT, sockets
  for (const list of Object.values(cpu)) list.length = 0;
  const ms = await interleaved(variants, 5);
  await Promise.all([client.close(), beforeClient.close(), agent.close()]);
  return {
    ...Object.fromEntries(Object.entries(ms).map(([k, t]) => [k, round((N / t) * 1000, 0)])),
    cpu: Object.fromEntries(Object.entries(cpu).map(([k, list]) => [k, round(median(list) / N, 1)])),
  };
}

export default async function run() {
  const before = await loadBeforeClient();
  const server = await startMinimalServer();
  const rows = [];
  for (const concurrency of [1, 8]) {
    const r = await measure(server, concurrency, before);
    const label = `${N} calls, ${concurrency} in flight`;
    rows.push(
      { figure: `client vs raw undici.request, same pre-built request (${label})`, ours: r.ours, before: r.before, baseline: r.raw, unit: 'calls/s', target: '≥ 0.90 × raw (aim 0.95)', pass: r.ours / r.raw >= 0.9 },
      concurrency === 1
        ? { figure: `client vs raw undici.request with fresh randoms (${label})`, ours: r.ours, before: r.before, baseline: r.rawFresh, unit: 'calls/s', target: '≥ 0.90 × raw', pass: r.ours / r.rawFresh >= 0.9 }
        : { figure: `client vs raw undici.request with fresh randoms (${label})`, ours: r.ours, before: r.before, baseline: r.rawFresh, unit: 'calls/s', target: '≥ 0.95 × raw', pass: r.ours / r.rawFresh >= 0.95 },
      { figure: `client vs naive: sign every call + global fetch (${label})`, ours: r.ours, before: r.before, baseline: r.naive, unit: 'calls/s', target: '> 1.00 × naive', pass: r.ours > r.naive },
      {
        figure: `CPU per call, client vs raw undici.request with fresh randoms (${label})`,
        ours: r.cpu.ours,
        before: r.cpu.before,
        baseline: r.cpu.rawFresh,
        unit: 'µs',
        target: '≤ 1.05 × raw',
        pass: r.cpu.ours <= 1.05 * r.cpu.rawFresh,
      },
    );
  }
  await server.close();
  return rows;
}
