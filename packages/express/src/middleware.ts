import {
  objectIssue,
  unknownOptionIssues,
  ValidationError,
  type ValidationIssue,
} from '@tim-broadcast/core';
import { createBroadcaster, type Broadcaster, type BroadcasterOptions } from '@tim-broadcast/rate-limit';
import { appsOf, type BroadcastApps } from './apps';
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
    }
  }
}

/** The options of one app: those of `createBroadcaster()` (`sdkAppId`, `secretKey`, `identifier`, `region` or `baseUrl`, ...). */
export type BroadcastMiddlewareOptions = BroadcasterOptions;

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
  /** Drains every app's queue and releases its client; same as `closeBroadcast(middleware)`. */
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
  const entries = multi ? createApps(options as BroadcastAppsOptions) : new Map([[DEFAULT_APP, createBroadcaster(options as BroadcasterOptions)]]);
  const defaultName = multi ? (options as BroadcastAppsOptions).defaultApp : DEFAULT_APP;
  const broadcaster = defaultName === undefined ? undefined : entries.get(defaultName);
  const apps = appsOf(entries);

  const middleware: RequestHandlerLike = (req, _res, next) => {
    const fields = req as RequestFields;
    fields.broadcasts = apps;
    if (broadcaster) fields.broadcast = broadcaster;
    next();
  };
  const close = async () => {
    await Promise.all([...entries.values()].map((b) => b.close()));
  };
  const result = Object.assign(middleware, { broadcaster, apps, close });
  middlewares.add(result);
  return result;
}

/** One broadcaster per app, all options checked before any is kept: a bad one closes those already made. */
function createApps(options: BroadcastAppsOptions): Map<string, Broadcaster> {
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

  const entries = new Map<string, Broadcaster>();
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
      entries.set(name, createBroadcaster(apps[name] as BroadcasterOptions));
    } catch (err) {
      if (!(err instanceof ValidationError)) {
        for (const broadcaster of entries.values()) void broadcaster.close();
        throw err;
      }
      issues.push(...err.issues.map((issue) => ({ ...issue, path: ['apps', name, ...issue.path] })));
    }
  }
  if (issues.length) {
    for (const broadcaster of entries.values()) void broadcaster.close();
    throw new ValidationError('invalid broadcastMiddleware options', issues);
  }
  return entries;
}
