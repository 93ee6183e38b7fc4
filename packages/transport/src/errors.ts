import { safeUrl, scrubText } from './redact';

export interface TransportErrorOptions {
  /** The request URL; only its origin and path are kept (never the query, which holds credentials). */
  url?: string;
  cause?: unknown;
  /** A system error code such as `ECONNREFUSED`, when known. */
  code?: string;
  /** The HTTP status, when the server answered but not usefully (e.g. 502). */
  status?: number;
}

/**
 * The base class of every error the tim-broadcast packages throw: `err instanceof TimBroadcastError` catches
 * anything from the SDK (validation, upstream, transport, timeouts, queue, rate-limit store, outbox).
 * Symbol.hasInstance makes it work even when two copies of a package are loaded (ESM and CJS builds).
 */
export class TimBroadcastError extends Error {
  override name = 'TimBroadcastError';

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== TimBroadcastError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
const BRAND = Symbol.for('tim-broadcast.error');
Object.defineProperty(TimBroadcastError.prototype, BRAND, { value: true });

/**
 * The request did not produce a usable HTTP response: connection refused or reset, DNS failure, TLS error...
 * The message, `url` and `cause` chain never contain the request's query string.
 */
export class TransportError extends TimBroadcastError {
  override name = 'TransportError';
  /** Origin and path of the request; the query string is never kept. */
  readonly url: string | undefined;
  readonly code: string | undefined;
  /** The HTTP status, when the server answered but not usefully (e.g. 502). */
  readonly status: number | undefined;
  /** Set by the broadcast client: HTTP attempts made before it gave up. */
  attempts: number | undefined;

  constructor(message: string, options: TransportErrorOptions = {}) {
    const { url, cause } = options;
    super(scrubText(message, url), cause === undefined ? undefined : { cause: scrub(cause, url, 0) });
    this.url = url === undefined ? undefined : safeUrl(url);
    this.code = options.code ?? findCode(cause);
    this.status = options.status;
  }
}

/** The request took longer than its `timeoutMs`. */
export class TimeoutError extends TransportError {
  override name = 'TimeoutError';
  readonly timeoutMs: number;

  constructor(timeoutMs: number, options: TransportErrorOptions = {}) {
    super(`request timed out after ${timeoutMs} ms`, { ...options, code: options.code ?? 'ETIMEDOUT' });
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's `AbortSignal` fired. `cause` is the signal's reason, as given (it is the caller's own value). */
export class AbortError extends TransportError {
  override name = 'AbortError';

  constructor(options: TransportErrorOptions = {}) {
    const { cause, ...rest } = options;
    super('request aborted', { ...rest, code: options.code ?? 'ABORT_ERR' });
    if ('cause' in options) {
      Object.defineProperty(this, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
    }
  }
}

/** Wraps whatever a client library threw into a TransportError whose message names the real problem. */
export function networkError(url: string, err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  return new TransportError(`request failed: ${describe(err)}`, { url, cause: err });
}

export function closedError(url: string): TransportError {
  return new TransportError('transport is closed', { url, code: 'ERR_CLOSED' });
}

function describe(err: unknown): string {
  let e = err;
  // fetch wraps the useful part ("connect ECONNREFUSED ...") in `cause`
  while (e instanceof Error && e.cause instanceof Error && /fetch failed/i.test(e.message)) e = e.cause;
  if (!(e instanceof Error)) return String(e);
  if (e.message) return e.message;
  // Node's AggregateError from happy-eyeballs connects has an empty message
  const inner = e instanceof AggregateError ? e.errors.map((x: unknown) => (x instanceof Error ? x.message : String(x))) : [];
  return inner.join('; ') || (findCode(e) ?? e.name);
}

function findCode(cause: unknown): string | undefined {
  for (let e = cause, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const STANDARD_ERRORS = [TypeError, RangeError, SyntaxError, URIError, EvalError, ReferenceError];

/**
 * Low-level errors sometimes carry the full URL (fetch's "Failed to parse URL from ...", `TypeError.input`).
 * Returns a copy with the same name, message, stack and primitive fields (`code`, `errno`, `syscall`...),
 * every string scrubbed of query strings; object-valued fields are dropped.
 */
function scrub(value: unknown, url: string | undefined, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value, url);
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
  if (!(value instanceof Error) || depth > 4) return scrubText(String(value), url);
  const message = scrubText(value.message, url);
  const Standard = STANDARD_ERRORS.find((type) => value.constructor === type) ?? Error;
  const copy =
    value instanceof AggregateError
      ? new AggregateError(
          value.errors.map((e: unknown) => scrub(e, url, depth + 1)),
          message,
        )
      : new Standard(message);
  for (const [key, field] of Object.entries(value)) {
    if (typeof field === 'string') Object.assign(copy, { [key]: scrubText(field, url) });
    else if (typeof field === 'number' || typeof field === 'boolean') Object.assign(copy, { [key]: field });
  }
  if (copy.name !== value.name) {
    Object.defineProperty(copy, 'name', { value: value.name, writable: true, configurable: true });
  }
  copy.stack = value.stack === undefined ? `${copy.name}: ${message}` : scrubText(value.stack, url);
  if (value.cause !== undefined) {
    Object.defineProperty(copy, 'cause', { value: scrub(value.cause, url, depth + 1), writable: true, configurable: true });
  }
  return copy;
}
