import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { expect } from 'vitest';

export const SECRET = 'SECRET-SIG-123';
export const PATH = '/v4/group_open_http_svc/send_broadcast_msg';
export const QUERY = `?usersig=${SECRET}&sdkappid=1`;

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestServer {
  /** Origin, e.g. http://127.0.0.1:1234 */
  origin: string;
  /** The API-like URL on this server, query with the secret included. */
  url: string;
  port: number;
  received: Received[];
  /** Sockets the server accepted so far. */
  connections: number;
  /** Sockets currently open. */
  open: Set<Socket>;
  /** Resolves when the server has received `count` requests in total. */
  receivedCount(count: number): Promise<void>;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A real HTTP server on 127.0.0.1, port 0. `handler` runs once the request body has been read. */
export async function startServer(handler: Handler = (_req, res) => res.end('ok')): Promise<TestServer> {
  const received: Received[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const open = new Set<Socket>();
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    for (const w of waiters.filter((w) => received.length >= w.count)) w.resolve();
    handler(req, res, body);
  });
  const state = { connections: 0 };
  server.on('connection', (socket) => {
    state.connections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: `${origin}${PATH}${QUERY}`,
    port,
    received,
    get connections() {
      return state.connections;
    },
    open,
    receivedCount(count) {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (a server was bound to it and closed). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TestProxy {
  url: string;
  /** Absolute-form requests forwarded (plain-HTTP proxying). */
  forwarded: string[];
  /** CONNECT targets tunnelled ("host:port"). */
  tunnels: string[];
  /** Proxy-Authorization headers seen, in order. */
  authorizations: Array<string | undefined>;
  close(): Promise<void>;
}

/** A tiny forward proxy: absolute-form requests for http:// targets, and CONNECT tunnels. */
export async function startProxy(): Promise<TestProxy> {
  const forwarded: string[] = [];
  const tunnels: string[] = [];
  const authorizations: Array<string | undefined> = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    authorizations.push(req.headers['proxy-authorization']);
    forwarded.push(req.url!);
    const target = new URL(req.url!);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    authorizations.push(req.headers['proxy-authorization']);
    tunnels.push(req.url!);
    const [host, port] = req.url!.split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    tunnels,
    authorizations,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const PROXY_VARS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'] as const;

/** Sets proxy variables (all others cleared) and returns a function that restores the previous environment. */
export function setProxyEnv(values: Partial<Record<(typeof PROXY_VARS)[number], string>> = {}): () => void {
  const saved = PROXY_VARS.map((name) => [name, process.env[name]] as const);
  for (const name of PROXY_VARS) delete process.env[name];
  Object.assign(process.env, values);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** Runs `fn` and returns what it rejected with; fails the test if it resolved. */
export async function rejectionOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Every printed form of an error and of each error in its cause chain. */
export function printedForms(err: unknown): string[] {
  const forms: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    forms.push(String(e), inspect(e, { depth: 10, showHidden: true }), JSON.stringify(e) ?? '');
    if (e instanceof Error) forms.push(e.message, e.stack ?? '');
    e = (e as { cause?: unknown }).cause;
  }
  return forms;
}

export function expectNoSecret(err: unknown): void {
  const forms = printedForms(err);
  expect(forms.length).toBeGreaterThan(3);
  for (const text of forms) expect(text).not.toContain(SECRET);
}
