import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  numberIssue,
  objectIssue,
  throwIfIssues,
  unknownOptionIssues,
  ValidationError,
  type BroadcastCallOptions,
  type Logger,
  type ValidationIssue,
} from '@tim-broadcast/core';
import { httpErrorResponse, type Broadcaster, type HttpErrorResponse, type Outbox, type QueueSendOptions } from '@tim-broadcast/rate-limit';
import type { BroadcastApps } from './apps';
import { bearerAuthorize, bearerTokenIssue, checkAccess, type Authorize } from './auth';
import { MAX_BODY_LIMIT, parseBodyLimit, readJsonBody } from './body';
import { sendJson, type RequestFields, type RequestHandlerLike } from './http';
import { HttpProblem } from './problem';
import { toBroadcastRequest } from './request-body';

export interface BroadcastRouterOptions<Req extends IncomingMessage = IncomingMessage> {
  /** The broadcaster to send with; leave it out when `broadcastMiddleware()` runs earlier (the router uses `req.broadcast`). */
  broadcast?: Broadcaster;
  /**
   * An outbox of your own (`createOutbox` of @tim-broadcast/outbox) to enqueue into: `202 { id }` and `GET /:id`.
   * Leave it out when `broadcastMiddleware()` has the `outbox` option: the router then uses the app's outbox.
   */
  outbox?: Outbox;
  /**
   * With a several-app `broadcastMiddleware({ apps })`: the app to send with, by name, or a function choosing it per
   * request (e.g. `(req) => req.params.app` under `app.use('/broadcasts/:app', router)`). Default: the `defaultApp`.
   * A name that is not configured answers 404 `unknown_app`.
   */
  app?: string | ((req: Req) => string | undefined);
  /** Decides who may broadcast: `true` → allowed, `false` → 403, `'unauthenticated'` → 401. A throw answers 500. */
  authorize?: Authorize<Req>;
  /** A shared secret callers send as `Authorization: Bearer <token>` (at least 16 characters, no spaces); compared in constant time. */
  bearerToken?: string;
  /** The only way to mount the router without `authorize` or `bearerToken`; logs a warning when the router is created. */
  allowUnauthenticated?: boolean;
  /** Largest request body, as bytes or `'64kb'`/`'1mb'` (default `'64kb'`, at most `'1mb'`). */
  bodyLimit?: number | string;
  /**
   * How long one broadcast may take, from the moment it is queued until Tencent accepted it (default 30,000 ms).
   * Passed to the broadcaster for the call; at the deadline the router answers 503 `rate_limit_unavailable` when the
   * rate-limit store is failing, else 504 `deadline_exceeded`, and withdraws the broadcast if it is still queued.
   * In outbox mode it does not apply: the enqueue is bounded by the outbox's `redisTimeoutMs`.
   */
  deadlineMs?: number;
  /** Where the router logs (default `console`). */
  logger?: Logger;
}

const DEFAULT_BODY_LIMIT = '64kb';
export const DEFAULT_ROUTER_DEADLINE_MS = 30_000;
const OPTION_KEYS = ['broadcast', 'outbox', 'app', 'authorize', 'bearerToken', 'allowUnauthenticated', 'bodyLimit', 'deadlineMs', 'logger'];

/** What the router hands the broadcaster per call (the client's per-call options, as the queue passes them on). */
type SendOptions = QueueSendOptions & Pick<BroadcastCallOptions, 'deadlineMs'>;

/**
 * A handler for `POST /` that validates the body (the documented request or `{ text }`), broadcasts it and answers
 * `200 { MsgSeq, Random }`, or a JSON error (see the README's table). Mount it with `app.use('/broadcasts', router)`
 * or `app.post('/broadcasts', router)`. Other methods and paths fall through to `next()`.
 *
 * In outbox mode (the app's `outbox` option, or the `outbox` option here) `POST /` enqueues and answers
 * `202 { id, duplicate }` with `Location`, and `GET /:id` (authorized like POST) answers the broadcast's status.
 */
export function createBroadcastRouter<Req extends IncomingMessage = IncomingMessage>(options: BroadcastRouterOptions<Req>): RequestHandlerLike<Req> {
  const { limit, checks, logger, deadlineMs } = checkOptions(options);
  if (options.allowUnauthenticated === true) {
    logger.warn?.(
      'tim-broadcast: the broadcast router accepts unauthenticated requests (allowUnauthenticated: true); anyone who can reach it can broadcast to every AVChatRoom',
    );
  }

  async function handle(req: Req & RequestFields, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableEnded) controller.abort();
    };
    res.once('close', onClose);
    let broadcaster: Broadcaster | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await checkAccess(req, checks);
      const target = pickTarget(req, options);
      broadcaster = target.broadcaster;
      const request = toBroadcastRequest(await readJsonBody(req, limit));
      const idempotencyKey = req.headers['idempotency-key'];
      const keyed = typeof idempotencyKey === 'string' ? { idempotencyKey } : {};
      if (target.outbox) {
        // bounded by the outbox's redisTimeoutMs
        const { id, duplicate } = await target.outbox.enqueue(request, { signal: controller.signal, ...keyed });
        sendJson(res, 202, { id, duplicate }, { location: `${pathOf(req)}/${encodeURIComponent(id)}` });
        return;
      }
      const sendOptions: SendOptions = { signal: controller.signal, deadlineMs, ...keyed };
      // armed before the send, so that it fires before a timer of the same length the send may set itself
      const overdue = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineReached()), deadlineMs);
      });
      const sent = target.broadcaster!.send(request, sendOptions as QueueSendOptions);
      // past the deadline its outcome has no one to go to; it only must not become an unhandled rejection
      sent.catch(() => {});
      const result = await Promise.race([sent, overdue]);
      sendJson(res, 200, { MsgSeq: result.MsgSeq, Random: result.Random });
    } catch (err) {
      if (err instanceof DeadlineReached) {
        controller.abort(); // withdraws the broadcast if it is still queued; aborts it if it was sent alone
        answer(res, deadlineAnswer(broadcaster!, deadlineMs));
        return;
      }
      fail(req, res, controller, err, broadcaster);
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
    }
  }

  /** `GET /:id` in outbox mode: the broadcast's status, 404 for an unknown id. */
  async function handleStatus(req: Req & RequestFields, res: ServerResponse, id: string, picked: Target | Error): Promise<void> {
    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableEnded) controller.abort();
    };
    res.once('close', onClose);
    try {
      await checkAccess(req, checks);
      if (picked instanceof Error) throw picked;
      const status = await picked.outbox!.status(id, { signal: controller.signal });
      if (!status) throw new HttpProblem(404, 'broadcast_not_found', `no broadcast ${JSON.stringify(id.slice(0, 200))}: unknown, or finished longer ago than the outbox keeps statuses`);
      sendJson(res, 200, status);
    } catch (err) {
      fail(req, res, controller, err, undefined);
    } finally {
      res.off('close', onClose);
    }
  }

  function fail(req: Req & RequestFields, res: ServerResponse, controller: AbortController, err: unknown, broadcaster: Broadcaster | undefined): void {
    if (controller.signal.aborted || res.destroyed || req.socket?.destroyed) {
      logger.debug?.('tim-broadcast: the caller went away before the broadcast finished', { error: errorName(err) });
      return;
    }
    if (res.headersSent) throw err;
    const response = err instanceof HttpProblem ? problemResponse(err) : httpErrorResponse(err, { broadcaster });
    if (!response) {
      logger.error?.('tim-broadcast: broadcast request failed', { error: errorName(err), message: errorMessage(err) });
      sendJson(res, 500, { error: 'internal_error', message: 'internal error' });
      return;
    }
    answer(res, response);
  }

  function answer(res: ServerResponse, response: HttpErrorResponse): void {
    if (response.status >= 500) {
      logger.warn?.('tim-broadcast: broadcast failed', { status: response.status, error: response.body.error, code: response.body.code });
    }
    sendJson(res, response.status, response.body, response.headers);
  }

  return (req, res, next) => {
    const fields = req as Req & RequestFields;
    // as a route handler (app.post(path, router)) Express has matched the path already; under app.use it is '/'
    if (req.method === 'POST' && (fields.route !== undefined || isRootPath(req.url))) {
      // Express 4 does not catch rejected promises: every failure ends in a response or in next(err)
      handle(fields, res).catch(next);
      return;
    }
    const id = req.method === 'GET' ? statusId(fields) : undefined;
    if (id === undefined) {
      next();
      return;
    }
    let picked: Target | Error;
    try {
      picked = pickTarget(fields, options);
    } catch (err) {
      picked = err instanceof Error ? err : new Error(String(err));
    }
    // without an outbox there are no statuses to read: the path is not the router's
    if (!(picked instanceof Error) && !picked.outbox) {
      next();
      return;
    }
    handleStatus(fields, res, id, picked).catch(next);
  };
}

class DeadlineReached extends Error {}

/** What a request broadcasts with: an outbox (202, then statuses) or a broadcaster (200 once Tencent accepted it). */
interface Target {
  outbox?: Outbox;
  broadcaster?: Broadcaster;
}

/** The router's own outbox or broadcaster, the app it names, or the middleware's default app. */
function pickTarget<Req extends IncomingMessage>(req: Req & RequestFields, options: BroadcastRouterOptions<Req>): Target {
  if (options.outbox) return { outbox: options.outbox };
  if (options.broadcast) return { broadcaster: options.broadcast };
  const apps = req.broadcasts as BroadcastApps | undefined;
  const name = typeof options.app === 'function' ? options.app(req) : options.app;
  if (name !== undefined && apps) return { broadcaster: apps.get(name), outbox: apps.outbox(name) };
  if (req.broadcast) return { broadcaster: req.broadcast as Broadcaster, outbox: req.outbox as Outbox | undefined };
  if (apps) throw new HttpProblem(404, 'unknown_app', `name the app to broadcast with (one of ${apps.names.join(', ')})`);
  throw new Error('no broadcaster: use broadcastMiddleware() before the router, or pass { broadcast } or { outbox }');
}

/** The id of `GET /:id` (or of a route handler's `:id` parameter), undefined for other paths. */
function statusId(req: RequestFields & { params?: Record<string, string | undefined> }): string | undefined {
  if (req.route !== undefined) return req.params?.id || undefined;
  const match = /^\/([^/?#]+)\/?(?:\?.*)?$/.exec(req.url ?? '');
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
}

/** The path the router answered on (`/broadcasts`, `/broadcasts/eu`), for `Location`. */
function pathOf(req: RequestFields & { originalUrl?: string }): string {
  return (req.originalUrl ?? req.url ?? '/').split('?', 1)[0]!.replace(/\/+$/, '');
}

/** At the deadline: the store's outage when that is why nothing moved, else a plain overrun. */
function deadlineAnswer(broadcaster: Broadcaster, deadlineMs: number): HttpErrorResponse {
  const storeError = broadcaster.limiter?.lastStoreError;
  const outage = storeError ? httpErrorResponse(storeError) : undefined;
  if (outage) return outage;
  const message = `the broadcast did not finish within ${deadlineMs} ms; if it was still queued it was withdrawn, otherwise it may or may not have been delivered`;
  return { status: 504, body: { error: 'deadline_exceeded', message }, headers: {} };
}

function problemResponse(problem: HttpProblem): HttpErrorResponse {
  return { status: problem.status, body: { error: problem.error, message: problem.message }, headers: problem.headers };
}

function isRootPath(url: string | undefined): boolean {
  const path = (url ?? '/').split('?', 1)[0];
  return path === '/' || path === '';
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function checkOptions<Req extends IncomingMessage>(options: BroadcastRouterOptions<Req>) {
  throwIfIssues('invalid broadcast router options', [objectIssue(options, [])]);
  const issues: ValidationIssue[] = unknownOptionIssues(options, OPTION_KEYS);
  const {
    broadcast,
    outbox,
    app,
    authorize,
    bearerToken,
    allowUnauthenticated,
    bodyLimit = DEFAULT_BODY_LIMIT,
    deadlineMs = DEFAULT_ROUTER_DEADLINE_MS,
    logger = console,
  } = options;

  if (broadcast !== undefined && (typeof broadcast?.send !== 'function' || typeof broadcast?.health !== 'function')) {
    issues.push({ path: ['broadcast'], message: 'expected a Broadcaster from createBroadcaster()' });
  }
  if (outbox !== undefined) {
    if (typeof outbox?.enqueue !== 'function' || typeof outbox?.status !== 'function') issues.push({ path: ['outbox'], message: 'expected an Outbox from createOutbox()' });
    else if (broadcast !== undefined) issues.push({ path: ['outbox'], message: 'cannot be combined with broadcast' });
  }
  if (app !== undefined) {
    if (typeof app !== 'string' && typeof app !== 'function') issues.push({ path: ['app'], message: 'expected an app name or a function (req) => name' });
    else if (broadcast !== undefined || outbox !== undefined) issues.push({ path: ['app'], message: `cannot be combined with ${broadcast !== undefined ? 'broadcast' : 'outbox'}` });
  }
  if (authorize !== undefined && typeof authorize !== 'function') {
    issues.push({ path: ['authorize'], message: 'expected a function (req) => boolean | "unauthenticated" | Promise<...>' });
  }
  if (bearerToken !== undefined) {
    const issue = bearerTokenIssue(bearerToken);
    if (issue) issues.push(issue);
  }
  if (allowUnauthenticated !== undefined && typeof allowUnauthenticated !== 'boolean') {
    issues.push({ path: ['allowUnauthenticated'], message: 'expected a boolean' });
  }
  if (authorize === undefined && bearerToken === undefined && allowUnauthenticated !== true) {
    issues.push({
      path: ['authorize'],
      message: 'required: pass authorize(req) or bearerToken; set allowUnauthenticated: true to expose the endpoint without authentication',
    });
  }
  if (allowUnauthenticated === true && (authorize !== undefined || bearerToken !== undefined)) {
    issues.push({ path: ['allowUnauthenticated'], message: 'cannot be combined with authorize or bearerToken' });
  }
  const limit = parseBodyLimit(bodyLimit);
  if (limit === undefined) {
    issues.push({ path: ['bodyLimit'], message: `expected a number of bytes from 1 to ${MAX_BODY_LIMIT} or a size such as '64kb' or '1mb' (at most '1mb')` });
  }
  const deadlineIssue = numberIssue(deadlineMs, ['deadlineMs'], 'ms', { min: 0, minInclusive: false });
  if (deadlineIssue) issues.push(deadlineIssue);
  if (typeof logger !== 'object' || logger === null) issues.push({ path: ['logger'], message: 'expected a console-like logger' });
  if (issues.length) throw new ValidationError('invalid broadcast router options', issues);

  const checks: Authorize<Req>[] = [];
  if (bearerToken !== undefined) checks.push(bearerAuthorize(bearerToken));
  if (authorize !== undefined) checks.push(authorize);
  return { limit: limit!, checks, logger, deadlineMs };
}
