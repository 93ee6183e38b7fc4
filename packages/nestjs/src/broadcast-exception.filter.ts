import type { ServerResponse } from 'node:http';
import { Catch, Inject, Injectable, Logger, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TimBroadcastError } from '@tim-broadcast/core';
import { httpErrorResponse, type HttpErrorResponse } from '@tim-broadcast/rate-limit';
import { refusedBy } from './refusals';

const INTERNAL: HttpErrorResponse = { status: 500, body: { error: 'internal_error', message: 'internal error' }, headers: {} };

/**
 * Answers every SDK error (`TimBroadcastError`) thrown by a route with the HTTP status and JSON body the Express router
 * gives (the mapping is shared: `httpErrorResponse` of `@tim-broadcast/rate-limit`): 400 with the bad fields' paths,
 * 429 with Retry-After, 502 upstream, 503 store or shutdown, 504 timeout; an unknown one answers 500 and is logged.
 *
 * Register it for the whole app with `{ provide: APP_FILTER, useClass: BroadcastExceptionFilter }`, or
 * `app.useGlobalFilters(new BroadcastExceptionFilter(app.get(HttpAdapterHost)))`. HTTP only; other errors pass by.
 */
@Catch(TimBroadcastError)
@Injectable()
export class BroadcastExceptionFilter implements ExceptionFilter<TimBroadcastError> {
  private readonly logger = new Logger('BroadcastExceptionFilter');

  constructor(@Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost) {}

  catch(error: TimBroadcastError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const response = httpErrorResponse(error, { broadcaster: refusedBy.get(error) }) ?? INTERNAL;
    if (response === INTERNAL) this.logger.error(`broadcast request failed: ${error.name}: ${error.message}`);
    else if (response.status >= 500) {
      const code = response.body.code === undefined ? '' : ` (${String(response.body.code)})`;
      this.logger.warn(`broadcast failed: ${response.status} ${response.body.error}${code}`);
    }
    const headers = { ...response.headers, 'cache-control': 'no-store' };
    const res: unknown = host.switchToHttp().getResponse();
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter) {
      for (const [name, value] of Object.entries(headers)) adapter.setHeader(res, name, value);
      adapter.reply(res, response.body, response.status);
      return;
    }
    // without the adapter (useGlobalFilters(new BroadcastExceptionFilter())): Node's own response, or Fastify's `raw`
    const raw = ((res as { raw?: ServerResponse }).raw ?? res) as ServerResponse;
    raw.statusCode = response.status;
    for (const [name, value] of Object.entries(headers)) raw.setHeader(name, value);
    raw.setHeader('content-type', 'application/json; charset=utf-8');
    raw.end(JSON.stringify(response.body));
  }
}
