import type { IncomingMessage, ServerResponse } from 'node:http';

/** `next` of Express 4 and 5 (and connect). */
export type NextFunctionLike = (err?: unknown) => void;

/**
 * A middleware typed on Node's own request and response, so the package's types do not need `@types/express`;
 * Express's `Request`/`Response` extend these, so `app.use(handler)` type-checks on Express 4 and 5.
 */
export type RequestHandlerLike<Req extends IncomingMessage = IncomingMessage> = (req: Req, res: ServerResponse, next: NextFunctionLike) => void;

/** What the package reads from a request besides Node's fields; Express (and body-parser) set these. */
export type RequestFields = IncomingMessage & {
  broadcast?: unknown;
  /** Set by `broadcastMiddleware()`: every app's broadcaster by name. */
  broadcasts?: unknown;
  /** Set by `broadcastMiddleware()` when the default app has an outbox. */
  outbox?: unknown;
  body?: unknown;
  /** body-parser marks a request whose body it has read. */
  _body?: boolean;
  /** Set by Express when the handler runs as a route handler (`app.post(path, handler)`). */
  route?: unknown;
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}
