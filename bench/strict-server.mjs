// A tiny send_broadcast_msg server for the limiter benchmarks, in its own process. It decides each call when the
// request has arrived, then answers after `delayMs`:
//   mode 'spacing': refuses (10023) a call arriving less than 1000 / rate ms after the last accepted one;
//   mode 'window':  refuses a call when `rate` accepted calls arrived in the last 1000 ms.
// Started with fork(); parent → { rate, delayMs, mode }; child → { url }; parent → 'reset' → 'reset';
// parent → 'report' → { accepted: [ms], refused }
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

process.once('message', ({ rate, delayMs, mode }) => {
  const spacing = 1_000 / rate;
  const accepted = [];
  let refused = 0;
  let seq = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const now = performance.now() + performance.timeOrigin;
      const last = accepted.at(-1);
      const ok = mode === 'window' ? accepted.filter((t) => t > now - 1_000).length < rate : last === undefined || now - last >= spacing;
      let body;
      if (ok) {
        accepted.push(now);
        body = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgSeq":${++seq}}`;
      } else {
        refused++;
        body = '{"ActionStatus":"FAIL","ErrorInfo":"too fast","ErrorCode":10023}';
      }
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }, delayMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
  process.on('message', (m) => {
    if (m === 'report') process.send({ accepted, refused });
    if (m === 'reset') {
      accepted.length = 0;
      refused = 0;
      process.send('reset');
    }
  });
});
