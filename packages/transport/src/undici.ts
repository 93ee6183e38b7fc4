import { createRequire } from 'node:module';
import type { Dispatcher } from 'undici';
import { AbortError, closedError, networkError, TimBroadcastError, TimeoutError } from './errors';
import { headerRecord, undiciHeaderRecord } from './headers';
import { numberIssue, objectIssue, throwIfIssues, unknownOptionIssues } from './options';
import { checkTransportRequest } from './request';
import type { Transport, TransportRequest, TransportResponse } from './types';
import type { ValidationIssue } from './validation';

export interface UndiciTransportOptions {
  /** Max sockets per origin (default 8). The API allows a few calls per second, so a few are plenty. */
  connections?: number;
  /**
   * How long an idle keep-alive socket is kept open (default 30 000 ms). When the server announces a shorter
   * `Keep-Alive: timeout=`, undici follows the server (minus a safety margin).
   */
  keepAliveTimeoutMs?: number;
  /**
   * Your own undici dispatcher (Agent, Pool, ProxyAgent...). You keep ownership: `close()` leaves it open.
   * Cannot be combined with `connections`, `keepAliveTimeoutMs` or `proxy`; configure the dispatcher instead.
   */
  dispatcher?: Dispatcher;
  /**
   * `'env'` (default): undici's `EnvHttpProxyAgent`, which reads `HTTP_PROXY` / `HTTPS_PROXY` (lower-case names
   * win) when the transport is created and `NO_PROXY` on every request. A URL string: always use that proxy.
   * `false`: never use a proxy.
   */
  proxy?: 'env' | (string & {}) | false;
}

const DEFAULT_CONNECTIONS = 8;
const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
/** undici's own limits (its defaults), which apply where `timeoutMs` does not reach: connecting, or no `timeoutMs`. */
const UNDICI_TIMEOUTS: Record<string, number> = { UND_ERR_CONNECT_TIMEOUT: 10_000, UND_ERR_HEADERS_TIMEOUT: 300_000, UND_ERR_BODY_TIMEOUT: 300_000 };
const DEFAULT_KEEP_ALIVE_MS = 30_000;
const KNOWN_OPTIONS = ['connections', 'keepAliveTimeoutMs', 'dispatcher', 'proxy'];

/** A transport on undici: a keep-alive connection pool with a connection limit, and proxy support. */
export function undiciTransport(options: UndiciTransportOptions = {}): Transport {
  checkOptions(options);
  const owned = options.dispatcher === undefined;
  const dispatcher = options.dispatcher ?? createDispatcher(options);
  // with one socket per host there is no other socket to open: nothing to wait for after a call (see send)
  const oneSocket = owned && options.connections === 1;
  let closing: Promise<void> | undefined;
  /** Calls between dispatch and the end of their response body. */
  let active = 0;

  return {
    async send(req: TransportRequest): Promise<TransportResponse> {
      if (closing) throw closedError(req?.url);
      checkTransportRequest(req);
      if (req.signal?.aborted) throw new AbortError({ url: req.url, cause: req.signal.reason });
      active++;
      let result: TransportResponse;
      try {
        result = await new Promise<TransportResponse>((resolve, reject) => new Exchange(dispatcher, req, resolve, reject).start());
      } finally {
        active--;
      }
      // undici hands a keep-alive socket back to its pool one event-loop turn after the response ends; when no other
      // call is in flight, waiting that turn lets a back-to-back call reuse the socket instead of opening another
      if (active === 0 && !oneSocket) await new Promise((resolve) => setImmediate(resolve));
      return result;
    },
    async close() {
      // close() lets requests in flight finish, then releases the sockets
      closing ??= owned ? dispatcher.close() : Promise.resolve();
      await closing;
    },
  };
}

const ONCE = { once: true } as const;

/**
 * One request as an undici dispatch handler: the body is collected as it arrives and the promise settles at its
 * end, or at once when the request's `signal` fires or its `timeoutMs` passes (the request is then aborted). This is
 * what `dispatcher.request()` + `body.text()` did, without the response stream and the abort signal that call
 * allocates per request. Both handler interfaces are implemented: undici 8 and its dispatchers call the
 * `onRequestStart`/`onResponse*` ones, a dispatcher of undici 7 may call the older `onConnect`/`onHeaders`/... ones.
 */
class Exchange {
  readonly #dispatcher: Dispatcher;
  readonly #req: TransportRequest;
  readonly #resolve: (response: TransportResponse) => void;
  readonly #reject: (error: unknown) => void;
  #settled = false;
  #timedOut = false;
  #timer: NodeJS.Timeout | undefined;
  /** Aborts the undici request, once it has been handed one (`onRequestStart` / `onConnect`). */
  #abort: ((reason: unknown) => void) | undefined;
  #status = 0;
  #headers: Record<string, string> = {};
  #chunks: Buffer[] = [];
  #length = 0;

  constructor(dispatcher: Dispatcher, req: TransportRequest, resolve: (response: TransportResponse) => void, reject: (error: unknown) => void) {
    this.#dispatcher = dispatcher;
    this.#req = req;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(): void {
    const req = this.#req;
    if (req.timeoutMs !== undefined) this.#timer = setTimeout(() => this.#onTimeout(), req.timeoutMs);
    req.signal?.addEventListener('abort', this, ONCE);
    try {
      const { origin, path } = splitUrl(req.url);
      // our own timer bounds the whole exchange to within a few ms; undici's headersTimeout and bodyTimeout run on a
      // coarse clock (a 100 ms timeout fires after about a second), so they only apply without timeoutMs
      const options: Dispatcher.DispatchOptions =
        req.timeoutMs === undefined
          ? { origin, path, method: 'POST', body: req.body, headers: req.headers }
          : { origin, path, method: 'POST', body: req.body, headers: req.headers, headersTimeout: 0, bodyTimeout: 0 };
      this.#dispatcher.dispatch(options, this as unknown as Dispatcher.DispatchHandler);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** The caller's signal fired (an EventListener object: no closure per request). */
  handleEvent(): void {
    this.#stop(this.#req.signal!.reason);
  }

  #onTimeout(): void {
    this.#timedOut = true;
    this.#stop(new DOMException('This operation was aborted', 'AbortError'));
  }

  /** Settles now with the caller's abort or the timeout, and aborts the undici request. */
  #stop(reason: unknown): void {
    if (this.#settled) return;
    this.#fail(reason);
    this.#abort?.(reason);
  }

  #fail(err: unknown): void {
    if (this.#settled) return;
    this.#done();
    const { url, signal, timeoutMs } = this.#req;
    if (signal?.aborted) return this.#reject(new AbortError({ url, cause: signal.reason }));
    if (this.#timedOut) return this.#reject(new TimeoutError(timeoutMs!, { url, cause: err }));
    // undici's own limits (connect timeout, or the default header/body timeouts without timeoutMs)
    const code = (err as { code?: unknown })?.code;
    const bound = typeof code === 'string' ? UNDICI_TIMEOUTS[code] : undefined;
    if (bound !== undefined) return this.#reject(new TimeoutError(bound, { url, cause: err, code: 'ETIMEDOUT' }));
    this.#reject(networkError(url, err));
  }

  #done(): void {
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#req.signal?.removeEventListener('abort', this);
  }

  #start(abort: (reason: unknown) => void): void {
    this.#abort = abort;
    if (this.#settled) abort(new DOMException('This operation was aborted', 'AbortError'));
  }

  #head(statusCode: number, headers: Record<string, string> | undefined): void {
    // 1xx answers (100 Continue, 103 Early Hints) come before the real one
    if (statusCode < 200) return;
    this.#status = statusCode;
    this.#headers = headers ?? {};
  }

  #data(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  #end(): void {
    if (this.#settled) return;
    this.#done();
    this.#resolve({ status: this.#status, headers: this.#headers, body: decode(this.#chunks, this.#length) });
  }

  // undici 8, and undici 7's own dispatchers (which unwrap to this interface)
  onRequestStart(controller: { abort(reason: unknown): void }): void {
    this.#start((reason) => controller.abort(reason));
  }
  onResponseStart(_controller: unknown, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.#head(statusCode, undiciHeaderRecord(headers));
  }
  onResponseData(_controller: unknown, chunk: Buffer): void {
    this.#data(chunk);
  }
  onResponseEnd(): void {
    this.#end();
  }
  onResponseError(_controller: unknown, err: unknown): void {
    this.#fail(err);
  }

  // undici 7's older interface, for a dispatcher that calls it directly
  onConnect(abort: (reason: unknown) => void): void {
    this.#start(abort);
  }
  onHeaders(statusCode: number, rawHeaders: (Buffer | string)[]): boolean {
    this.#head(statusCode, statusCode < 200 ? undefined : rawHeaderRecord(rawHeaders));
    return true;
  }
  onData(chunk: Buffer): boolean {
    this.#data(chunk);
    return true;
  }
  onComplete(): void {
    this.#end();
  }
  onError(err: unknown): void {
    this.#fail(err);
  }
}

/** The body as text, as undici's `body.text()` reads it: UTF-8, a leading byte order mark dropped. */
function decode(chunks: Buffer[], length: number): string {
  if (length === 0) return '';
  const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
  const start = buffer.length > 2 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0;
  return buffer.toString('utf8', start);
}

/** `[name, value, name, value, ...]` as one lower-case record; repeated headers are joined with ", ". */
function rawHeaderRecord(raw: (Buffer | string)[]): Record<string, string> {
  const entries: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) entries.push([String(raw[i]), String(raw[i + 1])]);
  return headerRecord(entries);
}

/**
 * Origin and path of an http(s) URL for `dispatcher.request`. Splitting the string is much cheaper than the
 * `new URL()` that `undici.request(url)` runs on every call; anything unusual goes through `new URL()`.
 */
function splitUrl(url: string): { origin: string; path: string } {
  const match = /^(https?:\/\/[^/?#@\s]+)([/?][^#\s]*)?$/i.exec(url);
  if (match) {
    const rest = match[2] ?? '/';
    return { origin: match[1]!, path: rest.startsWith('?') ? `/${rest}` : rest };
  }
  const parsed = new URL(url);
  return { origin: parsed.origin, path: parsed.pathname + parsed.search };
}

declare const require: NodeJS.Require | undefined;

/**
 * undici, loaded when a transport needs its own dispatcher (it is an optional peer dependency). A missing package
 * is named with the install command instead of Node's bare "Cannot find module 'undici'".
 */
function loadUndici(): typeof import('undici') {
  // CommonJS build: the module's own require; ESM build: one made for this file (undici ships CommonJS)
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  try {
    return load('undici') as typeof import('undici');
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code !== 'MODULE_NOT_FOUND') throw err;
    throw new TimBroadcastError(
      'undiciTransport() needs the optional peer dependency undici: install it (npm install undici@^7), pass your own `dispatcher`, or use fetchTransport() from @tim-broadcast/transport',
    );
  }
}

function createDispatcher(options: UndiciTransportOptions): Dispatcher {
  const { Agent, EnvHttpProxyAgent, ProxyAgent } = loadUndici();
  const keepAlive = options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_MS;
  const poolOptions = {
    connections: options.connections ?? DEFAULT_CONNECTIONS,
    keepAliveTimeout: keepAlive,
    // caps the server's Keep-Alive hint, so keepAliveTimeoutMs is an upper bound
    keepAliveMaxTimeout: keepAlive,
  };
  const proxy = options.proxy ?? 'env';
  if (proxy === false) return new Agent(poolOptions);
  // EnvHttpProxyAgent reads HTTP(S)_PROXY only when it is created; without them it can never proxy, and a plain
  // Agent skips its per-request NO_PROXY lookup
  if (proxy === 'env') return PROXY_VARS.some((name) => process.env[name]) ? new EnvHttpProxyAgent(poolOptions) : new Agent(poolOptions);
  return new ProxyAgent({ ...poolOptions, uri: proxy });
}

function checkOptions(options: UndiciTransportOptions): void {
  const shape = objectIssue(options, []);
  if (shape) throwIfIssues('invalid undiciTransport options', [shape]);
  const { connections, keepAliveTimeoutMs, proxy, dispatcher } = options;
  const issues: (ValidationIssue | undefined)[] = [
    ...unknownOptionIssues(options, KNOWN_OPTIONS),
    numberIssue(connections, ['connections'], 'count', { min: 1, max: 65_536 }),
    numberIssue(keepAliveTimeoutMs, ['keepAliveTimeoutMs'], 'ms', { minInclusive: false }),
  ];
  if (proxy !== undefined && proxy !== false && proxy !== 'env') {
    // the URL may hold credentials: never echo it
    let url: URL | undefined;
    try {
      if (typeof proxy === 'string') url = new URL(proxy);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      issues.push({ path: ['proxy'], message: "expected 'env', false or an http(s) proxy URL" });
    }
  }
  if (dispatcher !== undefined) {
    if (typeof (dispatcher as { dispatch?: unknown } | null)?.dispatch !== 'function') {
      issues.push({ path: ['dispatcher'], message: 'expected an undici Dispatcher' });
    }
    for (const key of ['connections', 'keepAliveTimeoutMs', 'proxy'] as const) {
      if (options[key] !== undefined) {
        issues.push({ path: [key], message: 'cannot be combined with dispatcher; configure your dispatcher instead' });
      }
    }
  }
  throwIfIssues('invalid undiciTransport options', issues);
}
