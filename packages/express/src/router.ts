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
import { httpErrorResponse, type Broadcaster, type HttpErrorResponse, type QueueSendOptions } from '@tim-broadcast/rate-limit';
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
   */
  deadlineMs?: number;
  /** Where the router logs (default `console`). */
  logger?: Logger;
}

const DEFAULT_BODY_LIMIT = '64kb';
export const DEFAULT_ROUTER_DEADLINE_MS = 30_000;
const OPTION_KEYS = ['broadcast', 'app', 'authorize', 'bearerToken', 'allowUnauthenticated', 'bodyLimit', 'deadlineMs', 'logger'];

/** What the router hands the broadcaster per call (the client's per-call options, as the queue passes them on). */
type SendOptions = QueueSendOptions & Pick<BroadcastCallOptions, 'deadlineMs'>;

/**
 * A handler for `POST /` that validates the body (the documented request or `{ text }`), broadcasts it and answers
 * `200 { MsgSeq, Random }`, or a JSON error (see the README's table). Mount it with `app.use('/broadcasts', router)`
 * or `app.post('/broadcasts', router)`. Other methods and paths fall through to `next()`.
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
      broadcaster = pickBroadcaster(req, options);
      const request = toBroadcastRequest(await readJsonBody(req, limit));
      const idempotencyKey = req.headers['idempotency-key'];
      const sendOptions: SendOptions = { signal: controller.signal, deadlineMs, ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}) };
      // armed before the send, so that it fires before a timer of the same length the send may set itself
      const overdue = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineReached()), deadlineMs);
      });
      const sent = broadcaster.send(request, sendOptions as QueueSendOptions);
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
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
    }
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
    if (req.method !== 'POST' || (fields.route === undefined && !isRootPath(req.url))) {
      next();
      return;
    }
    // Express 4 does not catch rejected promises: every failure ends in a response or in next(err)
    handle(fields, res).catch(next);
  };
}

class DeadlineReached extends Error {}

/** The broadcaster for this request: the router's own, the app it names, or the middleware's default. */
function pickBroadcaster<Req extends IncomingMessage>(req: Req & RequestFields, options: BroadcastRouterOptions<Req>): Broadcaster {
  if (options.broadcast) return options.broadcast;
  const apps = req.broadcasts as BroadcastApps | undefined;
  const name = typeof options.app === 'function' ? options.app(req) : options.app;
  if (name !== undefined && apps) return apps.get(name);
  if (req.broadcast) return req.broadcast as Broadcaster;
  if (apps) throw new HttpProblem(404, 'unknown_app', `name the app to broadcast with (one of ${apps.names.join(', ')})`);
  throw new Error('no broadcaster: use broadcastMiddleware() before the router, or pass { broadcast }');
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
  if (app !== undefined) {
    if (typeof app !== 'string' && typeof app !== 'function') issues.push({ path: ['app'], message: 'expected an app name or a function (req) => name' });
    else if (broadcast !== undefined) issues.push({ path: ['app'], message: 'cannot be combined with broadcast' });
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
