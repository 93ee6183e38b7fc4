import { safeUrl } from './redact';

export interface TransportErrorOptions {
  /** The request URL; only its origin and path are kept (never the query, which holds credentials). */
  url?: string;
  cause?: unknown;
  /** A system error code such as `ECONNREFUSED`, when known. */
  code?: string;
  /** The HTTP status, when the server answered but not usefully (e.g. 502). */
  status?: number;
}

/** The request did not produce an HTTP response: connection refused or reset, DNS failure, TLS error... */
export class TransportError extends Error {
  override name = 'TransportError';
  /** Origin and path of the request; the query string is never kept. */
  readonly url: string | undefined;
  readonly code: string | undefined;
  /** The HTTP status, when the server answered but not usefully (e.g. 502). */
  readonly status: number | undefined;
  /** Set by the broadcast client: HTTP attempts made before it gave up. */
  attempts: number | undefined;

  constructor(message: string, options: TransportErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: scrubCause(options.cause) });
    this.url = options.url === undefined ? undefined : safeUrl(options.url);
    this.code = options.code ?? findCode(options.cause);
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

/** The caller's `AbortSignal` fired. `cause` holds the signal's reason. */
export class AbortError extends TransportError {
  override name = 'AbortError';

  constructor(options: TransportErrorOptions = {}) {
    super('request aborted', { ...options, code: options.code ?? 'ABORT_ERR' });
  }
}

function findCode(cause: unknown): string | undefined {
  for (let e = cause, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Low-level errors sometimes carry the full URL (e.g. `TypeError: Invalid URL` has `input`).
 * Keep the message and code, drop everything else that could hold a query string.
 */
function scrubCause(cause: unknown): unknown {
  if (!(cause instanceof Error)) return cause;
  const copy = new Error(stripQueries(cause.message));
  copy.name = cause.name;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string') (copy as Error & { code?: string }).code = code;
  if (cause.cause !== undefined) copy.cause = scrubCause(cause.cause);
  return copy;
}

function stripQueries(text: string): string {
  return text.replace(/\?[^\s'"]*/g, '?[redacted]');
}
