import {
  objectIssue,
  unknownOptionIssues,
  ValidationError,
  type ValidationIssue,
} from '@tim-broadcast/core';
import { loadOutboxPackage } from './outbox-package';
import {
  createBroadcaster,
  openOutbox,
  outboxOptionIssues,
  withSharedLimiter,
  type Broadcaster,
  type BroadcasterOptions,
  type BroadcastOutboxOptions,
  type Outbox,
} from '@tim-broadcast/rate-limit';
import { appsOf, type AppEntry, type BroadcastApps } from './apps';
import type { RequestFields, RequestHandlerLike } from './http';

declare global {
  namespace Express {
    interface Request {
      /**
       * The default app's broadcaster, set by `broadcastMiddleware()`: `req.broadcast.send({ MsgBody: [text('hi')] })`.
       * With several apps it is the `defaultApp` (unset when there is none: use `req.broadcasts.get(name)`).
       */
      broadcast: Broadcaster;
      /** Every app's broadcaster by name: `req.broadcasts.get('eu')`. */
      broadcasts: BroadcastApps;
      /** The default app's outbox, when it has the `outbox` option: `req.outbox.enqueue(...)`. */
      outbox?: Outbox;
    }
  }
}

/**
 * The options of one app: those of `createBroadcaster()` (`sdkAppId`, `secretKey`, `identifier`, `region` or `baseUrl`,
 * ...), and `outbox`.
 */
export type BroadcastMiddlewareOptions = BroadcasterOptions & {
  /**
   * Accept broadcasts into a durable Redis outbox: the router answers `202 { id }` and serves `GET /:id`, and the
   * middleware starts a deliverer unless `deliver: false`. Needs the optional package `@tim-broadcast/outbox`.
   */
  outbox?: BroadcastOutboxOptions;
};

/** Several Tencent Cloud Chat apps from one middleware. */
export interface BroadcastAppsOptions {
  /** One entry per app: a name you choose → that app's options. Each app gets its own client, limiter and queue. */
  apps: Record<string, BroadcastMiddlewareOptions>;
  /** The app that `req.broadcast` is, and that the router and the health handler use when they name none. */
  defaultApp?: string;
}

interface BroadcastMiddlewareBase extends RequestHandlerLike {
  /** Every app's broadcaster by name (`['default']` for the single-app form). */
  readonly apps: BroadcastApps;
  /**
   * Resolves once every app's outbox is open and its deliverer started (at once without outboxes). Rejects when one
   * cannot be: the package missing, a bad outbox option, Redis not answering. Await it before listening; until then
   * requests wait for it, and after a failure they get its error (`next(err)`).
   */
  readonly ready: Promise<void>;
  /** Drains every app's queue, stops its outbox deliverer, and releases its client; same as `closeBroadcast(middleware)`. */
  close(): Promise<void>;
}

/** The middleware, carrying the broadcaster it shares between requests. */
export interface BroadcastMiddleware extends BroadcastMiddlewareBase {
  readonly broadcaster: Broadcaster;
}

/** A middleware for several apps; `broadcaster` is the `defaultApp`'s, if one is named. */
export interface MultiAppBroadcastMiddleware extends BroadcastMiddlewareBase {
  readonly broadcaster: Broadcaster | undefined;
}

const middlewares = new WeakSet<object>();
const APPS_KEYS = ['apps', 'defaultApp'];
/** The name of the only app of the single-app form in `req.broadcasts`. */
export const DEFAULT_APP = 'default';

/** Whether `value` was made by `broadcastMiddleware()`. */
export function isBroadcastMiddleware(value: unknown): value is BroadcastMiddlewareBase {
  return typeof value === 'function' && middlewares.has(value);
}

/**
 * Creates one broadcaster (client, limiter, queue) per app and exposes it on every request: `req.broadcast` (the
 * default app) and `req.broadcasts.get(name)`. The options are those of `createBroadcaster()`, or `{ apps, defaultApp }`
 * for several apps; they are validated here, at once: a mistake throws a `ValidationError` naming the field before the
 * app serves anything.
 */
export function broadcastMiddleware(options: BroadcastMiddlewareOptions): BroadcastMiddleware;
export function broadcastMiddleware(options: BroadcastAppsOptions): MultiAppBroadcastMiddleware;
export function broadcastMiddleware(options: BroadcastMiddlewareOptions | BroadcastAppsOptions): BroadcastMiddleware | MultiAppBroadcastMiddleware {
  const multi = typeof options === 'object' && options !== null && 'apps' in options;
  const configured = multi ? (options as BroadcastAppsOptions).apps : { [DEFAULT_APP]: options as BroadcastMiddlewareOptions };
  const entries = multi ? createApps(options as BroadcastAppsOptions) : new Map([[DEFAULT_APP, createApp(options as BroadcastMiddlewareOptions, [])]]);
  const defaultName = multi ? (options as BroadcastAppsOptions).defaultApp : DEFAULT_APP;
  const defaultEntry = defaultName === undefined ? undefined : entries.get(defaultName);
  const apps = appsOf(entries);

  // without outboxes there is nothing to wait for: requests pass straight through
  let opened = Object.values(configured).every((app) => app?.outbox === undefined);
  const ready = opened
    ? Promise.resolve()
    : openOutboxes(entries, configured, multi).then(() => {
        opened = true;
      });
  // a failure reaches the caller through `ready` and the requests, and the log; never as an unhandled rejection
  ready.catch((err: unknown) => {
    const logger = Object.values(configured).find((app) => app?.logger)?.logger ?? console;
    logger.error?.('tim-broadcast: an outbox could not be opened; requests get this error until the middleware is replaced', {
      error: err instanceof Error ? err.name : typeof err,
      message: err instanceof Error ? err.message : String(err),
    });
  });

  const middleware: RequestHandlerLike = (req, _res, next) => {
    const fields = req as RequestFields;
    const expose = () => {
      fields.broadcasts = apps;
      if (defaultEntry) fields.broadcast = defaultEntry.broadcaster;
      if (defaultEntry?.outbox) fields.outbox = defaultEntry.outbox.outbox;
      next();
    };
    if (opened) expose();
    else ready.then(expose, next);
  };
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await ready.catch(() => {});
      await Promise.all([...entries.values()].map(closeApp));
    })());
  const result = Object.assign(middleware, { broadcaster: defaultEntry?.broadcaster, apps, ready, close });
  middlewares.add(result);
  return result;
}

/** One app's broadcaster; its `outbox` option is checked here, with the others, and left for `openOutboxes`. */
function createApp(options: BroadcastMiddlewareOptions, path: PropertyKey[]): AppEntry {
  const isObject = typeof options === 'object' && options !== null;
  const { outbox, ...rest } = isObject ? options : ({} as BroadcastMiddlewareOptions);
  const issues = outbox === undefined ? [] : outboxOptionIssues(outbox, [...path, 'outbox']);
  const given = !isObject ? options : outbox !== undefined && issues.length === 0 ? withSharedLimiter(rest, outbox) : rest;
  let broadcaster: Broadcaster | undefined;
  try {
    broadcaster = createBroadcaster(given as BroadcasterOptions);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    issues.push(...err.issues.map((issue) => ({ ...issue, path: [...path, ...issue.path] })));
  }
  if (issues.length || !broadcaster) {
    void broadcaster?.close();
    throw new ValidationError(path.length ? 'invalid broadcastMiddleware options' : 'invalid broadcaster options', issues);
  }
  return { broadcaster };
}

/** Opens every app's outbox and starts its deliverer (unless `deliver: false`). */
async function openOutboxes(entries: Map<string, AppEntry>, configured: Record<string, BroadcastMiddlewareOptions>, multi: boolean): Promise<void> {
  await Promise.all(
    [...entries].map(async ([name, entry]) => {
      const { outbox, sdkAppId, logger, shutdownTimeoutMs } = configured[name]!;
      if (outbox === undefined) return;
      entry.outbox = await openOutbox(outbox, {
        client: entry.broadcaster.client,
        sdkAppId,
        logger: logger ?? console,
        timeoutMs: shutdownTimeoutMs ?? 10_000,
        summary: 'invalid broadcastMiddleware options',
        path: multi ? ['apps', name, 'outbox'] : ['outbox'],
        loadOutbox: loadOutboxPackage,
      });
      if (entry.outbox.deliver) await entry.outbox.outbox.start();
    }),
  );
}

/** Stops the outbox deliverer and drains the queue at once (each bounded), then closes the client it both need. */
async function closeApp({ broadcaster, outbox }: AppEntry): Promise<void> {
  try {
    if (outbox) await Promise.all([outbox.close(), broadcaster.queue.close({ timeoutMs: outbox.timeoutMs })]);
  } finally {
    await broadcaster.close();
  }
}

/** One broadcaster per app, all options checked before any is kept: a bad one closes those already made. */
function createApps(options: BroadcastAppsOptions): Map<string, AppEntry> {
  const issues: ValidationIssue[] = unknownOptionIssues(options, APPS_KEYS).map((issue) => ({
    ...issue,
    message: `${issue.message}; with apps, each app's options go inside apps.<name>`,
  }));
  const { apps, defaultApp } = options;
  const appsIssue = objectIssue(apps, ['apps']);
  if (appsIssue) issues.push(appsIssue);
  const names = appsIssue ? [] : Object.keys(apps);
  if (!appsIssue && names.length === 0) issues.push({ path: ['apps'], message: 'expected at least one app' });
  if (defaultApp !== undefined && !names.includes(defaultApp)) {
    issues.push({ path: ['defaultApp'], message: `expected one of the names in apps (${names.join(', ')})` });
  }

  const entries = new Map<string, AppEntry>();
  const seen = new Map<unknown, string>();
  for (const name of names) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
      issues.push({ path: ['apps', name], message: 'expected a name of letters, digits, _ . - (at most 64), usable in a URL' });
      continue;
    }
    const sdkAppId = (apps[name] as { sdkAppId?: unknown } | undefined)?.sdkAppId;
    const twin = seen.get(sdkAppId);
    if (twin !== undefined) {
      issues.push({ path: ['apps', name, 'sdkAppId'], message: `the same SDKAppID as apps.${twin}: one app has one call-rate limit, so configure it once` });
      continue;
    }
    seen.set(sdkAppId, name);
    try {
      entries.set(name, createApp(apps[name]!, ['apps', name]));
    } catch (err) {
      if (!(err instanceof ValidationError)) {
        for (const entry of entries.values()) void entry.broadcaster.close();
        throw err;
      }
      issues.push(...err.issues);
    }
  }
  if (issues.length) {
    for (const entry of entries.values()) void entry.broadcaster.close();
    throw new ValidationError('invalid broadcastMiddleware options', issues);
  }
  return entries;
}
