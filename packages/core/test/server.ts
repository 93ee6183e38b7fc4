import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  query: URLSearchParams;
  body: Record<string, unknown>;
  rawBody: string;
  socket: Socket;
}

/** What the server does with one request. */
export type Answer =
  | { ok: true }
  | { code: number; info?: string }
  /** An upstream (a proxy, a gateway) that echoes the request line, query and UserSig included, in ErrorInfo. */
  | { code: number; echoUrl: true }
  | { status: number }
  | { hang: true }
  | { reset: true }
  | { lostAnswer: true }
  | { text: string };

/**
 * A real HTTP server on 127.0.0.1:0 that answers from a script (then OK) and records what it saw.
 *
 * Its dedup is simpler than the service's, on purpose: it dedups on the body `Random` ALONE, ignoring the message
 * content and the 5-minute window (the same Random is one delivery forever, whatever the MsgBody). That is enough
 * for what the client tests check (a retry re-sends the same Random); tests of content-aware, windowed dedup use
 * the emulator (`@tim-broadcast/emulator`), which follows the documented rule.
 */
export async function startTestServer() {
  const seen: SeenRequest[] = [];
  const script: Answer[] = [];
  const delivered = new Map<number, number>();
  const sockets = new Set<Socket>();
  let msgSeq = 1000;

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let rawBody = '';
    for await (const chunk of req) rawBody += chunk;
    const body = JSON.parse(rawBody || '{}');
    const query = new URL(req.url!, 'http://x').searchParams;
    seen.push({ query, body, rawBody, socket: req.socket });
    const answer = script.shift() ?? { ok: true };
    const reply = (payload: object) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(payload));
    };
    const deliver = () => {
      const random = body.Random as number;
      if (!delivered.has(random)) delivered.set(random, ++msgSeq);
      return delivered.get(random)!;
    };
    if ('ok' in answer) return reply({ ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, MsgSeq: deliver() });
    if ('echoUrl' in answer) return reply({ ActionStatus: 'FAIL', ErrorInfo: `upstream refused POST ${req.url}`, ErrorCode: answer.code });
    if ('code' in answer) return reply({ ActionStatus: 'FAIL', ErrorInfo: answer.info ?? 'scripted', ErrorCode: answer.code });
    if ('status' in answer) {
      res.statusCode = answer.status;
      return res.end('<html>bad gateway</html>');
    }
    if ('text' in answer) return res.end(answer.text);
    if ('lostAnswer' in answer) deliver();
    if ('reset' in answer || 'lostAnswer' in answer) return req.socket.destroy();
    // hang: never answer
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    /** Answers for the next requests, in order; afterwards every request is accepted. */
    script: (...answers: Answer[]) => script.push(...answers),
    /** Distinct messages delivered (dedup by body Random alone; see above). */
    deliveries: () => delivered.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/** A URL on 127.0.0.1 where nothing listens (connections are refused). */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
