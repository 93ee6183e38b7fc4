import type { IncomingMessage, ServerResponse } from 'node:http';

/** How many dashboards may listen at once; more get 503. */
export const MAX_EVENT_CLIENTS = 32;
/** A client that falls this far behind (a stalled tab) is dropped; it reconnects and gets a fresh snapshot. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * Server-Sent Events for the dashboard. Each client first gets a `snapshot` event (built by `snapshot()`), then
 * every event sent; the browser's EventSource reconnects by itself and so starts again from a snapshot.
 */
export class EventHub {
  private readonly clients = new Set<ServerResponse>();

  constructor(private readonly snapshot: () => unknown) {}

  get size(): number {
    return this.clients.size;
  }

  open(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain; charset=utf-8' });
      res.end('GET only\n');
      return;
    }
    if (this.clients.size >= MAX_EVENT_CLIENTS) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
      res.end(`at most ${MAX_EVENT_CLIENTS} dashboards at once\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    this.write(res, 'snapshot', JSON.stringify(this.snapshot()));
  }

  /** Sends `data()` (computed once, only when someone listens) to every client as event `type`. */
  send(type: string, data: () => unknown): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify(data());
    for (const res of this.clients) this.write(res, type, text);
  }

  /** Sends each client a fresh snapshot (after a reset). */
  resync(): void {
    if (this.clients.size === 0) return;
    this.send('snapshot', this.snapshot);
  }

  private write(res: ServerResponse, type: string, json: string): void {
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      res.destroy();
      return;
    }
    // JSON.stringify never emits a raw newline, so the payload is one `data:` line.
    res.write(`event: ${type}\ndata: ${json}\n\n`);
  }
}
