import { createHash } from 'node:crypto';
import { AbortError, fetchTransport, TimBroadcastError, TimeoutError, TransportError, type Transport } from '@tim-broadcast/transport';
import { clientTelemetry, type BroadcastRecorder } from './client-telemetry';
import { ApiError, ValidationError, type ValidationIssue } from './errors/classes';
import { EXPIRED_SIGNATURE_CODES } from './errors/codes';
import { HostSelector } from './failover';
import { hideInternals } from './hide';
import type { Limiter, LimiterPermit } from './limiter';
import { numberIssue, objectIssue, signalIssue, throwIfIssues, unknownOptionIssues } from './options';
import { randomUint32, redactUrl, requestUrlPrefix, requestUrlSuffix, resolveEndpoint, type Endpoint, type Region } from './regions';
import { serializeBroadcastRequest, type BroadcastRequestInput } from './schemas/request';
import { sleep } from './sleep';
import { createUserSigSigner, signerInputIssues, type SecretKeySource } from './usersig/sign';

export interface RetryOptions {
  /** Total HTTP attempts per broadcast, the first included (default 5). */
  attempts?: number;
  /** First backoff step in ms (default 200); each retry doubles it, with full jitter. */
  baseDelayMs?: number;
  /** Backoff cap in ms (default 5,000). */
  maxDelayMs?: number;
  /** Wait after a throttled answer (10023 and friends) when no limiter is set; with a limiter it is the penalty (default 1,000). */
  throttleDelayMs?: number;
  /** Network failures in a row on a host before switching to the other one (default 2). */
  failoverAfter?: number;
  /** How long to stay on the backup host before trying the primary again (default 60,000). */
  recoverAfterMs?: number;
}

export interface RequestEvent {
  attempt: number;
  /** The request URL with `usersig` redacted. */
  url: string;
  /** The body `Random` (the same on every attempt). */
  random: number;
  /** UTF-8 bytes of the request body. */
  bytes: number;
}

export interface ResponseEvent {
  attempt: number;
  url: string;
  durationMs: number;
  /** HTTP status, when the server answered. */
  status?: number;
  /** `ErrorCode`, when the body could be read. */
  errorCode?: number;
  errorInfo?: string;
  msgSeq?: number;
  /** The error of this attempt, if it failed. */
  error?: Error;
}

export interface RetryEvent {
  /** The attempt that failed. */
  attempt: number;
  /** Wait before the next attempt, in ms (0 when a limiter does the waiting). */
  delayMs: number;
  reason: 'network' | 'timeout' | 'http-status' | 'bad-response' | 'retryable-code' | 'throttled' | 'signature-expired';
  error: Error;
}

export interface BroadcastHooks {
  onRequest?(event: RequestEvent): void;
  onResponse?(event: ResponseEvent): void;
  onRetry?(event: RetryEvent): void;
}

/** console-compatible; every method optional. */
export interface Logger {
  debug?(message: string, meta?: Record<string, unknown>): void;
  info?(message: string, meta?: Record<string, unknown>): void;
  warn?(message: string, meta?: Record<string, unknown>): void;
  error?(message: string, meta?: Record<string, unknown>): void;
}

interface CommonClientOptions {
  sdkAppId: number;
  /** The app's secret key, or a function returning it (called whenever a UserSig is signed). */
  secretKey: SecretKeySource;
  /** An app admin account. */
  identifier: string;
  /** Default `fetchTransport()`, closed by `client.close()`. A transport you pass stays yours to close. */
  transport?: Transport;
  /** Called before every attempt; see `@tim-broadcast/rate-limit`. */
  limiter?: Limiter;
  /** Retry policy, or `false` for a single attempt. */
  retry?: RetryOptions | false;
  /** Per-attempt timeout in ms (default 10,000; the backend's own is 3 s). */
  timeoutMs?: number;
  /** Default overall deadline per `broadcast()` call in ms, limiter waits and retries included (default none). */
  deadlineMs?: number;
  /** UserSig lifetime in seconds (default 86,400); it is cached and re-signed before it expires. */
  userSigExpireSeconds?: number;
  /**
   * Allow an `http://` baseUrl to a host other than loopback (default false): the UserSig travels in the query
   * string, in clear text over http. An https primary never fails over to an http backup, whatever this says.
   */
  allowInsecureHttp?: boolean;
  hooks?: BroadcastHooks;
  logger?: Logger;
}

export type BroadcastClientOptions = CommonClientOptions &
  ({ region: Region; baseUrl?: undefined } | { baseUrl: string | Endpoint; region?: undefined });

export interface BroadcastCallOptions {
  signal?: AbortSignal;
  /** Derives the body `Random` from this key, so the same key within 5 minutes is one message even across processes. */
  idempotencyKey?: string;
  /** Overrides the client's per-attempt timeout. */
  timeoutMs?: number;
  /** Overrides the client's overall deadline. */
  deadlineMs?: number;
  /** Overrides the client's retry policy for this call: `false` for one attempt, or the fields to change. */
  retry?: CallRetryOptions | false;
  /**
   * How many callers' requests this call carries, when a queue merged several (an integer from 1 to 10,000). Sent as
   * the HTTP header `x-tim-broadcast-batch-size` (only when > 1) so the emulator and its dashboard can show it; the
   * API ignores it. Also the `tim.batch_size` of the call's span.
   */
  batchSize?: number;
}

/** Most requests one call can say it carries (`batchSize`). */
export const MAX_BATCH_SIZE = 10_000;
/** The header a merged call carries its `batchSize` in (sent only when it is above 1). */
export const BATCH_SIZE_HEADER = 'x-tim-broadcast-batch-size';

/** The retry fields a single call may override (failover settings belong to the client, which shares its hosts). */
export type CallRetryOptions = Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs' | 'throttleDelayMs'>;

export interface BroadcastResult {
  /** The message's sequence number. */
  MsgSeq: number;
  /** The body `Random` sent (the dedup key). */
  Random: number;
  /** HTTP attempts made. */
  attempts: number;
}

export interface BroadcastClient {
  /** Validates, waits for the limiter, signs, sends and retries until the broadcast is accepted or fails for good. */
  broadcast(request: BroadcastRequestInput, options?: BroadcastCallOptions): Promise<BroadcastResult>;
  /** Closes the transport if the client created it. */
  close(): Promise<void>;
  readonly sdkAppId: number;
  readonly identifier: string;
  readonly limiter: Limiter | undefined;
}

const DEDUP_WINDOW_MS = 5 * 60_000;
/** Keep every retry well inside the server's dedup window, whatever the clocks say. */
const WINDOW_MARGIN_MS = 15_000;

const DEFAULT_RETRY: Required<RetryOptions> = {
  attempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  throttleDelayMs: 1_000,
  failoverAfter: 2,
  recoverAfterMs: 60_000,
};

/** The body `Random` for an idempotency key: the first 32 bits of its SHA-256. */
export function randomFromKey(key: string): number {
  if (typeof key !== 'string' || key.length === 0) {
    throw new ValidationError('invalid idempotency key', [{ path: ['key'], message: `expected a non-empty string, got ${describeKey(key)}` }]);
  }
  return createHash('sha256').update(key).digest().readUInt32BE(0);
}

export function createBroadcastClient(options: BroadcastClientOptions): BroadcastClient {
  const checked = checkOptions(options);
  const { sdkAppId, identifier, limiter, hooks = {}, logger } = options;
  const clientRetry = withRetry(DEFAULT_RETRY, options.retry);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const ownsTransport = !options.transport;
  const transport = options.transport ?? fetchTransport();
  const signer = createUserSigSigner({
    sdkAppId,
    identifier,
    secretKey: options.secretKey,
    expireSeconds: options.userSigExpireSeconds,
  });
  /** Whether anyone reads request/response events (hooks or a debug logger); if not, skip building them. */
  const observed = Boolean(hooks.onRequest || hooks.onResponse || hooks.onRetry || logger?.debug);
  const telemetry = clientTelemetry(sdkAppId);
  const hosts = new HostSelector(checked.endpoint, clientRetry.failoverAfter, clientRetry.recoverAfterMs, (from, to) =>
    logger?.warn?.('tim-broadcast: switching API host after network failures', { from, to }),
  );

  let cachedPrefix = { host: '', userSig: '', prefix: '' };
  function urlPrefix(host: string, userSig: string): string {
    if (cachedPrefix.host !== host || cachedPrefix.userSig !== userSig) {
      cachedPrefix = { host, userSig, prefix: requestUrlPrefix(host, { sdkAppId, identifier, userSig }) };
    }
    return cachedPrefix.prefix;
  }

  function emit<K extends keyof BroadcastHooks>(name: K, event: Parameters<NonNullable<BroadcastHooks[K]>>[0]) {
    try {
      (hooks[name] as ((e: typeof event) => void) | undefined)?.(event);
    } catch (err) {
      logger?.error?.(`tim-broadcast: ${name} hook threw`, { error: String(err) });
    }
  }

  function broadcast(input: BroadcastRequestInput, call: BroadcastCallOptions = {}): Promise<BroadcastResult> {
    const rec = telemetry?.begin();
    return rec ? rec.wrap(send(input, call, rec)) : send(input, call, undefined);
  }

  async function send(input: BroadcastRequestInput, call: BroadcastCallOptions, rec: BroadcastRecorder | undefined): Promise<BroadcastResult> {
    checkCallOptions(call);
    const retry = withRetry(clientRetry, call.retry);
    const { body, random } = serializeBroadcastRequest(input, (given) => pickRandom(given, call.idempotencyKey));
    const bytes = Buffer.byteLength(body);
    rec?.request(random, bytes, call.batchSize);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (call.batchSize !== undefined && call.batchSize > 1) headers[BATCH_SIZE_HEADER] = String(call.batchSize);
    const attemptTimeout = call.timeoutMs ?? timeoutMs;
    const deadlineMs = call.deadlineMs ?? options.deadlineMs;
    const deadline = deadlineMs === undefined ? undefined : AbortSignal.timeout(deadlineMs);
    const signal = deadline ? (call.signal ? AbortSignal.any([call.signal, deadline]) : deadline) : call.signal;

    /** Turns an abort of `signal` into the typed error the caller should see. */
    const stopped = (cause: unknown): Error =>
      call.signal?.aborted ? new AbortError({ cause: call.signal.reason }) : new TimeoutError(deadlineMs!, { cause });

    let firstSentAt: number | undefined;
    let resigned = false;
    for (let attempt = 1; ; attempt++) {
      // sign first: a slow secretKey provider must not sit between the limiter's admission and the send
      const userSig = await signer.get();
      let permit: void | LimiterPermit = undefined;
      try {
        if (signal?.aborted) throw signal.reason;
        if (limiter) {
          const asked = rec ? performance.now() : 0;
          permit = await limiter.acquire({ signal });
          rec?.limiterAdmitted(attempt, asked);
        }
      } catch (err) {
        // a limiter's own verdict (a failing rate-limit store, say) reaches the caller as it is
        throw signal?.aborted && !(err instanceof TimBroadcastError && !(err instanceof AbortError)) ? stopped(err) : err;
      }
      const host = hosts.current();
      const url = urlPrefix(host, userSig) + requestUrlSuffix();
      const logUrl = observed ? redactUrl(url) : '';
      const started = Date.now();
      firstSentAt ??= started;
      rec?.attemptStart(attempt, host, url);
      if (observed) {
        emit('onRequest', { attempt, url: logUrl, random, bytes });
        logger?.debug?.('tim-broadcast: request', { attempt, url: logUrl, random, bytes });
      }

      let error: Error;
      let reason: RetryEvent['reason'];
      try {
        const request = { url, body, headers, signal, timeoutMs: attemptTimeout };
        const res = await (rec ? rec.send(() => transport.send(request)) : transport.send(request));
        hosts.answered(host);
        const outcome = readResponse(res.status, res.body, url, userSig);
        rec?.attemptEnd(res.status, 'msgSeq' in outcome ? undefined : outcome.error, 'msgSeq' in outcome ? outcome.msgSeq : undefined);
        const event: ResponseEvent | undefined = observed ? { attempt, url: logUrl, durationMs: Date.now() - started, status: res.status } : undefined;
        if ('msgSeq' in outcome) {
          if (event) {
            emit('onResponse', { ...event, errorCode: 0, msgSeq: outcome.msgSeq });
            logger?.debug?.('tim-broadcast: accepted', { attempt, msgSeq: outcome.msgSeq, random });
          }
          return { MsgSeq: outcome.msgSeq, Random: random, attempts: attempt };
        }
        error = outcome.error;
        reason = outcome.reason;
        if (event) emit('onResponse', { ...event, error, ...(error instanceof ApiError ? { errorCode: error.code, errorInfo: error.info } : {}) });
      } catch (err) {
        error = err instanceof Error ? err : new TransportError(String(err), { url });
        rec?.attemptEnd(undefined, error);
        if (signal?.aborted) throw withAttempts(stopped(err), attempt, random);
        reason = error instanceof TimeoutError ? 'timeout' : 'network';
        hosts.networkFailure(host);
        emit('onResponse', { attempt, url: logUrl, durationMs: Date.now() - started, error });
      } finally {
        releasePermit(permit, logger);
      }

      // decide whether and when to try again
      let delayMs = 0;
      if (error instanceof ApiError) {
        if (EXPIRED_SIGNATURE_CODES.has(error.code) && !resigned) {
          resigned = true;
          reason = 'signature-expired';
          signer.invalidate();
        } else if (error.category === 'throttled') {
          if (limiter?.penalize) await limiter.penalize(retry.throttleDelayMs);
          else delayMs = retry.throttleDelayMs + Math.random() * retry.throttleDelayMs * 0.2;
        } else if (error.category === 'retryable') {
          delayMs = backoff(attempt, retry);
        } else {
          throw withAttempts(error, attempt, random);
        }
      } else if (reason === 'http-status' && (error as TransportError).status! < 500) {
        throw withAttempts(error, attempt, random);
      } else {
        delayMs = backoff(attempt, retry);
      }

      const nextSendEarliest = Date.now() + delayMs;
      const outOfWindow = nextSendEarliest + attemptTimeout > firstSentAt + DEDUP_WINDOW_MS - WINDOW_MARGIN_MS;
      if (attempt >= retry.attempts || outOfWindow) {
        if (outOfWindow) logger?.warn?.('tim-broadcast: not retrying; a retry could land outside the 5-minute dedup window', { random });
        throw withAttempts(error, attempt, random);
      }
      emit('onRetry', { attempt, delayMs, reason, error });
      rec?.retry({ attempt, delayMs, reason, error });
      logger?.warn?.('tim-broadcast: retrying', { attempt, delayMs: Math.round(delayMs), reason, error: error.message });
      if (delayMs > 0) {
        try {
          await sleep(delayMs, signal);
        } catch (err) {
          throw withAttempts(stopped(err), attempt, random);
        }
      }
    }
  }

  const client: BroadcastClient = {
    broadcast,
    async close() {
      if (ownsTransport) await transport.close();
    },
    sdkAppId,
    identifier,
    limiter,
  };
  return hideInternals(client, 'BroadcastClient', { sdkAppId, identifier, endpoint: checked.endpoint });
}

type Outcome = { msgSeq: number } | { error: Error; reason: RetryEvent['reason'] };

function readResponse(status: number, text: string, url: string, userSig: string): Outcome {
  if (status !== 200) {
    return { error: new TransportError(`HTTP ${status} from the API`, { url, status, code: 'HTTP_STATUS' }), reason: 'http-status' };
  }
  let parsed: { ErrorCode?: unknown; ErrorInfo?: unknown; MsgSeq?: unknown } | undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    // handled below
  }
  const code = parsed?.ErrorCode;
  if (typeof code !== 'number' || !Number.isInteger(code)) {
    return { error: new TransportError('the API answered without a readable ErrorCode', { url, status, code: 'BAD_RESPONSE' }), reason: 'bad-response' };
  }
  if (code === 0) {
    if (typeof parsed!.MsgSeq === 'number') return { msgSeq: parsed!.MsgSeq };
    return { error: new TransportError('the API accepted the broadcast but sent no MsgSeq', { url, status, code: 'BAD_RESPONSE' }), reason: 'bad-response' };
  }
  // an upstream that echoes the request URL (a proxy, a gateway) would hand the UserSig back in ErrorInfo; ApiError
  // redacts `usersig=` values, and the ticket itself is cut out wherever it appears
  const raw = typeof parsed!.ErrorInfo === 'string' ? parsed!.ErrorInfo : '';
  const info = userSig ? raw.split(userSig).join('[redacted]') : raw;
  const error = new ApiError(code, info);
  return { error, reason: error.category === 'throttled' ? 'throttled' : 'retryable-code' };
}

/** `base` with the fields `override` sets (undefined ones ignored); `false` means one attempt. */
function withRetry(base: Required<RetryOptions>, override: RetryOptions | false | undefined): Required<RetryOptions> {
  if (override === undefined) return base;
  if (override === false) return { ...base, attempts: 1 };
  const merged = { ...base };
  for (const key of Object.keys(base) as (keyof RetryOptions)[]) {
    if (override[key] !== undefined) merged[key] = override[key];
  }
  return merged;
}

/** The attempt has ended: tell the limiter (its place is then held for the rest of the window, not longer). */
function releasePermit(permit: void | LimiterPermit, logger: Logger | undefined): void {
  if (typeof (permit as LimiterPermit | undefined)?.release !== 'function') return;
  try {
    (permit as LimiterPermit).release();
  } catch (err) {
    logger?.error?.('tim-broadcast: limiter permit release() threw', { error: String(err) });
  }
}

function backoff(attempt: number, retry: Required<RetryOptions>): number {
  return Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
}

function withAttempts<E extends Error>(error: E, attempts: number, random: number): E {
  if (error instanceof ApiError || error instanceof TransportError) error.attempts = attempts;
  if (error instanceof ApiError) (error as { random: number | undefined }).random = random;
  return error;
}

function pickRandom(random: number | undefined, key: string | undefined): number {
  if (key === undefined) return random ?? randomUint32();
  if (typeof key !== 'string' || key.length === 0) {
    throw new ValidationError('invalid call options', [{ path: ['idempotencyKey'], message: 'expected a non-empty string' }]);
  }
  const derived = randomFromKey(key);
  if (random !== undefined && random !== derived) {
    throw new ValidationError('invalid call options', [{ path: ['idempotencyKey'], message: 'give either Random or idempotencyKey, not both' }]);
  }
  return derived;
}

const CLIENT_OPTIONS = [
  'sdkAppId',
  'secretKey',
  'identifier',
  'region',
  'baseUrl',
  'allowInsecureHttp',
  'transport',
  'limiter',
  'retry',
  'timeoutMs',
  'deadlineMs',
  'userSigExpireSeconds',
  'hooks',
  'logger',
];
const CALL_OPTIONS = ['signal', 'idempotencyKey', 'timeoutMs', 'deadlineMs', 'retry', 'batchSize'];
const CALL_RETRY_OPTIONS = ['attempts', 'baseDelayMs', 'maxDelayMs', 'throttleDelayMs'];
const HOOK_NAMES = ['onRequest', 'onResponse', 'onRetry'];
const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'];

/** Issues of a retry policy (`false` or an object of known fields with numbers timers and counters can take). */
function retryIssues(retry: unknown, known: readonly string[], path: PropertyKey[]): (ValidationIssue | undefined)[] {
  if (retry === undefined || retry === false) return [];
  const shape = objectIssue(retry, path);
  if (shape) return [{ ...shape, message: `${shape.message} (retry options or false)` }];
  const r = retry as Record<string, unknown>;
  return [
    ...unknownOptionIssues(r, known, path),
    numberIssue(r.attempts, [...path, 'attempts'], 'count', { min: 1, max: 100 }),
    numberIssue(r.failoverAfter, [...path, 'failoverAfter'], 'count', { min: 1, max: 100 }),
    ...['baseDelayMs', 'maxDelayMs', 'throttleDelayMs', 'recoverAfterMs'].map((k) => numberIssue(r[k], [...path, k], 'ms')),
  ];
}

/** Issues of an object of optional callbacks (hooks, logger): unknown names refused, each one a function. */
function callbackIssues(value: unknown, known: readonly string[], path: string): (ValidationIssue | undefined)[] {
  if (value === undefined) return [];
  const shape = objectIssue(value, [path]);
  if (shape) return [shape];
  const v = value as Record<string, unknown>;
  // a logger may be a class instance (console, pino): only check the methods we call
  const unknown = path === 'hooks' ? unknownOptionIssues(v, known, [path]) : [];
  return [
    ...unknown,
    ...known.map((name) => (v[name] === undefined || typeof v[name] === 'function' ? undefined : { path: [path, name], message: 'expected a function' })),
  ];
}

/** Per-call options, checked before anything happens (a bad `signal` would otherwise throw from inside a timer). */
function checkCallOptions(call: BroadcastCallOptions): void {
  const shape = objectIssue(call, ['options']);
  if (shape) throwIfIssues('invalid call options', [shape]);
  // the common case costs one key scan
  if (Object.keys(call).length === 0) return;
  throwIfIssues('invalid call options', [
    ...unknownOptionIssues(call, CALL_OPTIONS),
    signalIssue(call.signal),
    call.idempotencyKey === undefined || (typeof call.idempotencyKey === 'string' && call.idempotencyKey.length > 0)
      ? undefined
      : { path: ['idempotencyKey'], message: 'expected a non-empty string' },
    numberIssue(call.timeoutMs, ['timeoutMs'], 'ms', { minInclusive: false }),
    numberIssue(call.deadlineMs, ['deadlineMs'], 'ms', { minInclusive: false }),
    ...retryIssues(call.retry, CALL_RETRY_OPTIONS, ['retry']),
    numberIssue(call.batchSize, ['batchSize'], 'count', { min: 1, max: MAX_BATCH_SIZE }),
  ]);
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? 'an empty string' : typeof key;
}

function checkOptions(options: BroadcastClientOptions): { endpoint: Endpoint } {
  const shape = objectIssue(options, []);
  if (shape) throw new ValidationError('invalid broadcast client options', [shape]);
  const issues: (ValidationIssue | undefined)[] = [
    ...unknownOptionIssues(options, CLIENT_OPTIONS),
    ...signerInputIssues({ sdkAppId: options.sdkAppId, identifier: options.identifier, expireSeconds: options.userSigExpireSeconds }).map((i) =>
      i.path[0] === 'expireSeconds' ? { ...i, path: ['userSigExpireSeconds'] } : i,
    ),
  ];
  const { secretKey } = options;
  if (typeof secretKey !== 'function' && (typeof secretKey !== 'string' || secretKey.length === 0)) {
    issues.push({ path: ['secretKey'], message: 'expected a non-empty string or a function returning one' });
  }
  issues.push(
    numberIssue(options.timeoutMs, ['timeoutMs'], 'ms', { minInclusive: false }),
    numberIssue(options.deadlineMs, ['deadlineMs'], 'ms', { minInclusive: false }),
    ...retryIssues(options.retry, Object.keys(DEFAULT_RETRY), ['retry']),
    ...callbackIssues(options.hooks, HOOK_NAMES, 'hooks'),
    ...callbackIssues(options.logger, LOGGER_METHODS, 'logger'),
  );
  if (options.transport !== undefined && typeof options.transport?.send !== 'function') {
    issues.push({ path: ['transport'], message: 'expected a Transport with send() and close()' });
  }
  if (options.limiter !== undefined && typeof options.limiter?.acquire !== 'function') {
    issues.push({ path: ['limiter'], message: 'expected a Limiter with acquire()' });
  }
  let endpoint: Endpoint = { primary: '' };
  try {
    endpoint = resolveEndpoint(options);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    issues.push(...err.issues);
  }
  throwIfIssues('invalid broadcast client options', issues);
  return { endpoint };
}
