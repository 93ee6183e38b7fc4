// The smallest server that answers like send_broadcast_msg: OK with an increasing MsgSeq. Used as a neutral target.
import { createServer } from 'node:http';

let seq = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgSeq":${++seq}}`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
