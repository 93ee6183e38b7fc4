import {
  AbortError,
  numberIssue,
  parseBroadcastRequest,
  QueueClosedError,
  signalIssue,
  throwIfIssues,
  TimeoutError,
  ValidationError,
  type BroadcastRequestInput,
  type Logger,
  type Transport,
} from '@tim-broadcast/core';
import { createBroadcaster, type Broadcaster, type BroadcasterOptions } from './broadcaster';
import { defaultTransport } from './default-transport';
import { CredentialsError, RegistryFullError, type CredentialsFailure } from './errors';
import type { QueueResult, QueueSendOptions } from './queue';
import {
  credentialIssues,
  limiterKeyProblem,
  registryIssues,
  type AppCredentials,
  type BroadcastRegistryOptions,
  type RegistryDefaults,
} from './registry-options';
import { MemoryStore } from './stores/memory';
import { RedisStore } from './stores/redis';
import { redisUrlStore } from './stores/redis-url';
import type { RateLimitStore } from './stores/store';

export type { AppCredentials, BroadcastRegistryOptions, CredentialsProvider, RegistryDefaults } from './registry-options';

export interface RegistryHealth {
  /** 'down' once closed, or while the shared rate-limit store is failing for some app. */
  status: 'up' | 'down';
  /** Apps with a broadcaster now. */
  apps: number;
  /** Apps whose broadcaster is being made (credentials asked for). */
  creating: number;
  /** Apps whose credentials failed and are not asked for again yet. */
  failing: number;
  queued: number;
  inFlight: number;
  /** The store's last error, when it is failing (never a secret). */
  lastStoreError?: string;
}

export interface BroadcastRegistry {
  /**
   * The app's broadcaster: made on first use (concurrent first calls share one making) from the provider's
   * credentials and the registry's defaults, shared transport and shared store. Do not keep it: an app idle for
   * `idleTimeoutMs` is closed, and a later `get()` makes a new one (its sends then fail with `QueueClosedError`).
   * `signal` stops this caller's wait (the making goes on for others).
   */
  get(sdkAppId: number, options?: { signal?: AbortSignal }): Promise<Broadcaster>;
  /** `get(sdkAppId)`, then its `send(request, options)`; `deadlineMs` and `signal` cover the wait for credentials too. */
  send(sdkAppId: number, request: BroadcastRequestInput, options?: QueueSendOptions): Promise<QueueResult>;
  /** Whether the app has a broadcaster now. */
  has(sdkAppId: number): boolean;
  /** Apps with a broadcaster now. */
  readonly size: number;
  /** Drains and closes the app's broadcaster now (bounded by its `shutdownTimeoutMs`); the next use makes a new one. */
  evict(sdkAppId: number): Promise<void>;
  health(): RegistryHealth;
  /**
   * Stops taking calls (they fail with `QueueClosedError`), drains and closes every app's broadcaster (each bounded by
   * its `shutdownTimeoutMs`), then the store's pub/sub connection, a Redis client and a transport the registry
   * made. Idempotent.
   */
  close(): Promise<void>;
}

interface App {
  sdkAppId: number;
  broadcaster: Broadcaster;
  /** Last `get()`, or last seen busy by the sweep (performance.now()). */
  lastUsed: number;
}

interface Failure {
  reason: CredentialsFailure;
  detail: string;
  cause: unknown;
  failures: number;
  retryAt: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_APPS = 10_000;
const DEFAULT_CREDENTIALS_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY_BASE_MS = 1_000;
const DEFAULT_RETRY_MAX_MS = 60_000;
/** Longest pause between two looks for idle apps. */
const MAX_SWEEP_MS = 30_000;

const now = () => performance.now();

/**
 * Broadcasters for many apps in one process, made on first use from a credentials provider, sharing one transport
 * and one rate-limit store (one Redis client, one pub/sub connection), each limited under its own key.
 */
export function createBroadcastRegistry(options: BroadcastRegistryOptions): BroadcastRegistry {
  throwIfIssues('invalid broadcast registry options', registryIssues(options));
  const provider = options.credentials;
  const defaults: RegistryDefaults = options.defaults ?? {};
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const maxApps = options.maxApps ?? DEFAULT_MAX_APPS;
  const credentialsTimeoutMs = options.credentialsTimeoutMs ?? DEFAULT_CREDENTIALS_TIMEOUT_MS;
  const retryBaseMs = options.credentialsRetry?.baseDelayMs ?? DEFAULT_RETRY_BASE_MS;
  const retryMaxMs = Math.max(retryBaseMs, options.credentialsRetry?.maxDelayMs ?? DEFAULT_RETRY_MAX_MS);
  const limiterKey = options.limiterKey ?? ((sdkAppId: number) => `tim-broadcast:${sdkAppId}`);
  const logger: Logger = options.logger ?? console;
  checkDefaults(defaults);

  const limited = defaults.rateLimit !== false;
  /** The store the registry made (closed by close(); a Redis client you gave stays open). */
  let store: (RateLimitStore & { close?(): Promise<void> }) | undefined;
  if (limited) {
    const { redis } = options;
    if (typeof redis === 'string') store = redisUrlStore(redis, ['redis']);
    else store = redis ? new RedisStore({ client: redis }) : new MemoryStore();
  }
  let transport: Promise<Transport> | undefined = options.transport && Promise.resolve(options.transport);
  let ownedTransport: Promise<Transport> | undefined;

  const apps = new Map<number, App>();
  const making = new Map<number, Promise<App>>();
  /** Apps whose credentials failed lately, oldest first (at most maxApps of them are remembered). */
  const failures = new Map<number, Failure>();
  /** Broadcasters being closed (evicted). */
  const closing = new Set<Promise<void>>();
  const stopping = new AbortController();
  /** Provider calls in progress, told to stop at close() (a set, not a listener each on one signal). */
  const asking = new Set<AbortController>();
  let closed: Promise<void> | undefined;
  let sweeper: NodeJS.Timeout | undefined;

  function closedError(): QueueClosedError {
    return new QueueClosedError('the broadcast registry is closed; nothing was sent');
  }

  function sharedTransport(): Promise<Transport> {
    if (!transport) {
      transport = ownedTransport = defaultTransport().catch((err: unknown) => {
        transport = ownedTransport = undefined; // asked again by the next app made
        throw err;
      });
    }
    return transport;
  }

  function failureError(sdkAppId: number, f: Failure): CredentialsError {
    return new CredentialsError(sdkAppId, f.reason, f.detail, new Date(Date.now() + Math.max(0, f.retryAt - now())), f.failures, { cause: f.cause });
  }

  function failed(sdkAppId: number, reason: CredentialsFailure, detail: string, cause: unknown): CredentialsError {
    const count = (failures.get(sdkAppId)?.failures ?? 0) + 1;
    const delay = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(count - 1, 30));
    const failure: Failure = { reason, detail, cause, failures: count, retryAt: now() + delay };
    failures.delete(sdkAppId);
    failures.set(sdkAppId, failure);
    if (failures.size > maxApps) failures.delete(failures.keys().next().value!);
    const error = failureError(sdkAppId, failure);
    logger.warn?.('tim-broadcast: could not get the credentials of an app', { sdkAppId, reason, failures: count, error: detail, retryInMs: delay });
    return error;
  }

  /** Asks the provider, within credentialsTimeoutMs and until close(). */
  async function ask(sdkAppId: number): Promise<AppCredentials> {
    const call = new AbortController();
    const timer = setTimeout(() => call.abort(new TimeoutError(credentialsTimeoutMs)), credentialsTimeoutMs);
    asking.add(call);
    let answer: unknown;
    try {
      answer = await untilAborted(
        Promise.resolve().then(() => provider(sdkAppId, { signal: call.signal })),
        call.signal,
      );
    } catch (err) {
      if (stopping.signal.aborted) throw closedError();
      if (call.signal.aborted) throw failed(sdkAppId, 'timeout', `the provider did not answer within ${credentialsTimeoutMs} ms`, err);
      throw failed(sdkAppId, 'failed', `the provider failed (${describe(err)})`, err);
    } finally {
      clearTimeout(timer);
      asking.delete(call);
    }
    if (answer === undefined || answer === null) throw failed(sdkAppId, 'unknown-app', 'the provider knows no such app', undefined);
    const issues = credentialIssues(answer);
    if (issues.length) throw invalid(sdkAppId, new ValidationError('invalid credentials', issues));
    return answer as AppCredentials;
  }

  function invalid(sdkAppId: number, error: ValidationError): CredentialsError {
    return failed(sdkAppId, 'invalid', `the provider returned invalid credentials (${error.message.replace(/^[^:]*: /, '')})`, error);
  }

  async function make(sdkAppId: number, key: string | undefined): Promise<App> {
    const [credentials, shared] = await Promise.all([ask(sdkAppId), sharedTransport()]);
    if (stopping.signal.aborted) throw closedError();
    const { ratePerSecond, ...app } = credentials;
    const { rateLimit, ...rest } = defaults;
    let broadcaster: Broadcaster;
    try {
      broadcaster = createBroadcaster({
        ...rest,
        ...app,
        sdkAppId,
        transport: shared,
        logger,
        rateLimit: limited ? { ...rateLimit, ...(ratePerSecond === undefined ? {} : { ratePerSecond }), key, store } : false,
      } as BroadcasterOptions);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      // defaults were checked up front: what is left is the provider's (rateLimit.ratePerSecond is its ratePerSecond)
      const issues = err.issues.map((i) => (i.path[0] === 'rateLimit' ? { ...i, path: i.path.slice(1) } : i));
      throw invalid(sdkAppId, new ValidationError('invalid credentials', issues));
    }
    failures.delete(sdkAppId);
    const entry: App = { sdkAppId, broadcaster, lastUsed: now() };
    apps.set(sdkAppId, entry);
    sweepLater();
    return entry;
  }

  function idle(app: App): boolean {
    return app.broadcaster.queue.size === 0 && app.broadcaster.queue.inFlight === 0;
  }

  function evictNow(app: App): Promise<void> {
    if (apps.get(app.sdkAppId) === app) apps.delete(app.sdkAppId);
    const done = app.broadcaster.close().catch((err: unknown) => {
      logger.error?.('tim-broadcast: closing an evicted app failed', { sdkAppId: app.sdkAppId, error: describe(err) });
    });
    closing.add(done);
    void done.finally(() => closing.delete(done));
    return done;
  }

  /** Room for one more app: evicts the least recently used idle one when full, or throws RegistryFullError. */
  function makeRoom(): void {
    if (apps.size + making.size < maxApps) return;
    let oldest: App | undefined;
    for (const app of apps.values()) if (idle(app) && (!oldest || app.lastUsed < oldest.lastUsed)) oldest = app;
    if (!oldest) throw new RegistryFullError(maxApps);
    void evictNow(oldest);
  }

  function sweep(): void {
    sweeper = undefined;
    const at = now();
    for (const app of apps.values()) {
      if (!idle(app)) app.lastUsed = at;
      else if (at - app.lastUsed >= idleTimeoutMs) void evictNow(app);
    }
    sweepLater();
  }

  function sweepLater(): void {
    if (sweeper || apps.size === 0 || closed) return;
    sweeper = setTimeout(sweep, Math.min(MAX_SWEEP_MS, Math.max(1, Math.ceil(idleTimeoutMs / 4))));
    sweeper.unref();
  }

  async function get(sdkAppId: number, call: { signal?: AbortSignal } = {}): Promise<Broadcaster> {
    const signal = call?.signal;
    throwIfIssues('invalid registry call', [appIdIssue(sdkAppId), signalIssue(signal)]);
    if (closed) throw closedError();
    const live = apps.get(sdkAppId);
    if (live) {
      live.lastUsed = now();
      return live.broadcaster;
    }
    let pending = making.get(sdkAppId);
    if (!pending) {
      const failure = failures.get(sdkAppId);
      if (failure && now() < failure.retryAt) throw failureError(sdkAppId, failure);
      let key: string | undefined;
      if (limited) {
        key = limiterKey(sdkAppId);
        const problem = limiterKeyProblem(key, sdkAppId);
        if (problem) throw new ValidationError('invalid limiterKey', [{ path: ['limiterKey'], message: `${problem}; got ${describeKey(key)} for SDKAppID ${sdkAppId}` }]);
      }
      makeRoom();
      const made = make(sdkAppId, key);
      pending = made;
      making.set(sdkAppId, made);
      void made.then(
        () => making.delete(sdkAppId),
        () => making.delete(sdkAppId),
      );
    }
    let app: App;
    try {
      app = await (signal ? untilAborted(pending, signal) : pending);
    } catch (err) {
      if (signal?.aborted && err === signal.reason) throw new AbortError({ cause: signal.reason });
      throw err;
    }
    app.lastUsed = now();
    return app.broadcaster;
  }

  const registry: BroadcastRegistry = {
    get,
    async send(sdkAppId, request, sendOptions = {}) {
      const started = now();
      throwIfIssues('invalid broadcast', [
        appIdIssue(sdkAppId),
        signalIssue(sendOptions?.signal),
        numberIssue(sendOptions?.deadlineMs, ['deadlineMs'], 'ms', { min: 1 }),
      ]);
      // a bad request fails before any credentials are asked for (the queue checks it again, as for any send)
      if (!apps.has(sdkAppId)) parseBroadcastRequest(request);
      const deadlineMs = sendOptions?.deadlineMs ?? defaults.deadlineMs;
      const bounded = deadlineMs === undefined ? undefined : deadlineSignal(sendOptions?.signal, deadlineMs);
      let broadcaster: Broadcaster;
      try {
        broadcaster = await get(sdkAppId, { signal: bounded?.signal ?? sendOptions?.signal });
      } catch (err) {
        if (bounded?.timedOut() && !(err instanceof CredentialsError)) {
          const error = new TimeoutError(deadlineMs!, { cause: err });
          error.message = `the ${deadlineMs} ms deadline passed while the app's credentials were loaded; the broadcast was not sent`;
          throw error;
        }
        throw err;
      } finally {
        bounded?.dispose();
      }
      // the queue's deadline counts from send(): what the wait for credentials left of it
      const left = deadlineMs === undefined ? undefined : Math.max(1, Math.floor(deadlineMs - (now() - started)));
      return broadcaster.send(request, left === undefined || left === deadlineMs ? sendOptions : { ...sendOptions, deadlineMs: left });
    },
    has: (sdkAppId) => apps.has(sdkAppId),
    get size() {
      return apps.size;
    },
    async evict(sdkAppId) {
      throwIfIssues('invalid registry call', [appIdIssue(sdkAppId)]);
      const app = apps.get(sdkAppId);
      if (app) await evictNow(app);
    },
    health() {
      let queued = 0;
      let inFlight = 0;
      let storeError: string | undefined;
      for (const { broadcaster } of apps.values()) {
        queued += broadcaster.queue.size;
        inFlight += broadcaster.queue.inFlight;
        storeError ??= broadcaster.limiter?.lastStoreError?.message;
      }
      return {
        status: closed || storeError ? 'down' : 'up',
        apps: apps.size,
        creating: making.size,
        failing: failures.size,
        queued,
        inFlight,
        ...(storeError ? { lastStoreError: storeError } : {}),
      };
    },
    close() {
      closed ??= (async () => {
        stopping.abort();
        for (const call of asking) call.abort(closedError());
        clearTimeout(sweeper);
        await Promise.allSettled(making.values());
        await Promise.all([...apps.values()].map((app) => evictNow(app)));
        await Promise.all(closing);
        await store?.close?.();
        await (await ownedTransport?.catch(() => undefined))?.close();
      })();
      return closed;
    },
  };
  return registry;
}

/** Builds (and closes) a broadcaster from `defaults`, so a bad default fails at once, named under `defaults`. */
function checkDefaults(defaults: RegistryDefaults): void {
  const idle: Transport = { send: () => Promise.reject(new Error('not used')), close: async () => {} };
  try {
    const probe = createBroadcaster({
      ...defaults,
      sdkAppId: 1,
      secretKey: 'registry-defaults-check',
      identifier: 'administrator',
      baseUrl: 'http://127.0.0.1',
      transport: idle,
      logger: {},
      rateLimit: defaults.rateLimit === false ? false : { ...defaults.rateLimit, store: new MemoryStore(), key: 'registry-defaults-check' },
    } as BroadcasterOptions);
    void probe.close();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ValidationError(
      'invalid broadcast registry options',
      err.issues.map((i) => ({ ...i, path: ['defaults', ...i.path] })),
    );
  }
}

function appIdIssue(sdkAppId: unknown) {
  if (typeof sdkAppId === 'number' && Number.isSafeInteger(sdkAppId) && sdkAppId > 0 && sdkAppId <= 0xffffffff) return undefined;
  return { path: ['sdkAppId'], message: 'expected a positive integer SDKAppID' };
}

/** `promise`, or a rejection with the signal's reason as soon as it fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A signal that fires with the caller's `signal` or after `ms`; `timedOut()` tells which. */
function deadlineSignal(signal: AbortSignal | undefined, ms: number) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new TimeoutError(ms));
  }, ms);
  const onAbort = () => controller.abort(signal!.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 300);
  return String(err).slice(0, 300);
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key.slice(0, 80)) : typeof key;
}
