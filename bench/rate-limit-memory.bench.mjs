// (c) Memory per queued broadcast: 100,000 small requests wait in a queue whose limiter is blocked, so nothing
// is sent. Heap measured after a full GC, in a child process started with --expose-gc.
//   ours      heap growth / 100,000 (the queue's entry, the parsed request, the caller's promise)
//   baseline  the request's own JSON size
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const N = 100_000;

export default async function run() {
  const child = fork(fileURLToPath(import.meta.url), ['--measure'], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { perMessage, json } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`measurement exited with ${code}`)));
  });
  return [
    {
      figure: `heap per queued broadcast, ${N.toLocaleString('en-US')} queued`,
      ours: perMessage,
      baseline: json,
      unit: 'bytes',
      target: '< 2,048',
      pass: perMessage < 2_048,
      note: 'baseline = JSON bytes of one request; ours includes the queue entry, the validated copy of the request and the promise handed to the caller',
    },
  ];
}

async function measure() {
  const { createBroadcastClient, text } = await import('@tim-broadcast/core');
  const { createBroadcastQueue, createRateLimiter } = await import('@tim-broadcast/rate-limit');
  const limiter = createRateLimiter({ ratePerSecond: 1 });
  await limiter.penalize(3_600_000); // nothing will be admitted: everything stays queued
  const client = createBroadcastClient({ sdkAppId: 1400000001, secretKey: 'bench-memory-secret', identifier: 'administrator', baseUrl: 'http://127.0.0.1:9', limiter });
  const queue = createBroadcastQueue({ client, maxQueued: N });
  const request = (i) => ({ MsgBody: [text(`queued broadcast number ${i}`)] });

  const heap = () => {
    global.gc();
    global.gc();
    return process.memoryUsage().heapUsed;
  };
  const pending = new Array(N);
  const before = heap();
  for (let i = 0; i < N; i++) pending[i] = queue.send(request(i)).catch(() => {});
  const after = heap();
  if (queue.size !== N) throw new Error(`expected ${N} queued, found ${queue.size}`);
  await queue.close({ timeoutMs: 0 });
  await limiter.close();
  await Promise.all(pending);
  process.send({ perMessage: Math.round((after - before) / N), json: Buffer.byteLength(JSON.stringify(request(N / 2))) });
  process.disconnect();
}

if (process.argv.includes('--measure')) await measure();
