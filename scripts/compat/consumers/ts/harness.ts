// Shared by the TypeScript consumers (compiled once as CJS with module node16, once as ESM with bundler resolution).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export function main(name: string, scenario: () => Promise<void>): void {
  const major = process.env.COMPAT_NODE_MAJOR;
  if (major && process.versions.node.split('.')[0] !== major) {
    console.error(`${name}: expected Node ${major}, running ${process.version}`);
    process.exit(1);
  }
  scenario().then(
    () => {
      setTimeout(() => {
        console.error(`${name}: still running 5 s after the scenario finished; something it opened was not closed`);
        process.exit(1);
      }, 5000).unref();
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.stack : error);
      process.exit(1);
    },
  );
}

export interface StubRequest {
  method: string | undefined;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Stub {
  url: string;
  requests: StubRequest[];
  close(): Promise<void>;
}

/** A plain HTTP server on 127.0.0.1:0 that answers every request with `reply(request)`. */
export function startStub(reply: (request: StubRequest) => { status?: number; json: unknown }): Promise<Stub> {
  const requests: StubRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request = { method: req.method, url: req.url ?? '/', headers: req.headers, body };
      requests.push(request);
      const { status = 200, json } = reply(request);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
