import type { IncomingMessage, ServerResponse } from 'node:http';
import { ValidationError, type Logger, type ValidationIssue } from '@tim-broadcast/core';
import type { Broadcaster } from '@tim-broadcast/rate-limit';
import { bearerAuthorize, checkAccess, MIN_BEARER_TOKEN_LENGTH, type Authorize } from './auth';
import { parseBodyLimit, readJsonBody } from './body';
import { errorResponse } from './error-response';
import { sendJson, type RequestFields, type RequestHandlerLike } from './http';
import { toBroadcastRequest } from './request-body';

export interface BroadcastRouterOptions<Req extends IncomingMessage = IncomingMessage> {
  /** The broadcaster to send with; leave it out when `broadcastMiddleware()` runs earlier (the router uses `req.broadcast`). */
  broadcast?: Broadcaster;
  /** Decides who may broadcast: `true` → allowed, `false` → 403, `'unauthenticated'` → 401. A throw answers 500. */
  authorize?: Authorize<Req>;
  /** A shared secret callers send as `Authorization: Bearer <token>` (at least 16 characters); compared in constant time. */
  bearerToken?: string;
  /** The only way to mount the router without `authorize` or `bearerToken`; logs a warning when the router is created. */
  allowUnauthenticated?: boolean;
  /** Largest request body, as bytes or `'64kb'`/`'1mb'` (default `'64kb'`). */
  bodyLimit?: number | string;
  /** Where the router logs (default `console`). */
  logger?: Logger;
}

const DEFAULT_BODY_LIMIT = '64kb';

/**
 * A handler for `POST /` that validates the body (the documented request or `{ text }`), broadcasts it and answers
 * `200 { MsgSeq, Random }`, or a JSON error (see the README's table). Mount it with `app.use('/broadcasts', router)`
 * or `app.post('/broadcasts', router)`. Other methods and paths fall through to `next()`.
 */
export function createBroadcastRouter<Req extends IncomingMessage = IncomingMessage>(options: BroadcastRouterOptions<Req>): RequestHandlerLike<Req> {
  const { limit, checks, logger } = checkOptions(options);
  if (options.allowUnauthenticated === true) {
    logger.warn?.(
      'tim-broadcast: the broadcast router accepts unauthenticated requests (allowUnauthenticated: true); anyone who can reach it can broadcast to every AVChatRoom',
    );
  }

  async function handle(req: Req & RequestFields, res: ServerResponse): Promise<void> {
    const broadcaster = options.broadcast ?? (req.broadcast as Broadcaster | undefined);
    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableEnded) controller.abort();
    };
    res.once('close', onClose);
    try {
      await checkAccess(req, checks);
      if (!broadcaster) throw new Error('no broadcaster: use broadcastMiddleware() before the router, or pass { broadcast }');
      const request = toBroadcastRequest(await readJsonBody(req, limit));
      const idempotencyKey = req.headers['idempotency-key'];
      const result = await broadcaster.send(request, {
        signal: controller.signal,
        ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}),
      });
      sendJson(res, 200, { MsgSeq: result.MsgSeq, Random: result.Random });
    } catch (err) {
      if (controller.signal.aborted || res.destroyed || req.socket?.destroyed) {
        logger.debug?.('tim-broadcast: the caller went away before the broadcast finished', { error: errorName(err) });
        return;
      }
      if (res.headersSent) throw err;
      const answer = errorResponse(err, broadcaster);
      if (!answer) {
        logger.error?.('tim-broadcast: broadcast request failed', { error: errorName(err), message: errorMessage(err) });
        sendJson(res, 500, { error: 'internal_error', message: 'internal error' });
        return;
      }
      if (answer.status >= 500) logger.warn?.('tim-broadcast: broadcast failed', { status: answer.status, error: answer.body.error, code: answer.body.code });
      sendJson(res, answer.status, answer.body, answer.headers);
    } finally {
      res.off('close', onClose);
    }
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
  if (!options || typeof options !== 'object') {
    throw new ValidationError('invalid broadcast router options', [{ path: [], message: 'expected an options object with authorize or bearerToken' }]);
  }
  const issues: ValidationIssue[] = [];
  const { broadcast, authorize, bearerToken, allowUnauthenticated, bodyLimit = DEFAULT_BODY_LIMIT, logger = console } = options;

  if (broadcast !== undefined && (typeof broadcast?.send !== 'function' || typeof broadcast?.health !== 'function')) {
    issues.push({ path: ['broadcast'], message: 'expected a Broadcaster from createBroadcaster()' });
  }
  if (authorize !== undefined && typeof authorize !== 'function') {
    issues.push({ path: ['authorize'], message: 'expected a function (req) => boolean | "unauthenticated" | Promise<...>' });
  }
  if (bearerToken !== undefined && (typeof bearerToken !== 'string' || bearerToken.length < MIN_BEARER_TOKEN_LENGTH)) {
    // never echo the value: it is a credential
    issues.push({ path: ['bearerToken'], message: `expected a string of at least ${MIN_BEARER_TOKEN_LENGTH} characters` });
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
  if (limit === undefined) issues.push({ path: ['bodyLimit'], message: "expected a positive number of bytes or a size such as '64kb' or '1mb'" });
  if (typeof logger !== 'object' || logger === null) issues.push({ path: ['logger'], message: 'expected a console-like logger' });
  if (issues.length) throw new ValidationError('invalid broadcast router options', issues);

  const checks: Authorize<Req>[] = [];
  if (bearerToken !== undefined) checks.push(bearerAuthorize(bearerToken));
  if (authorize !== undefined) checks.push(authorize);
  return { limit: limit!, checks, logger };
}
